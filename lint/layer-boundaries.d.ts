import type { Rule } from "eslint";

declare const layerBoundaries: Rule.RuleModule;
export default layerBoundaries;
