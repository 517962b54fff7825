/** Types of what the tests import from eslint.config.js. */
import type { Linter } from "eslint";

export interface Layer {
  path: string;
  allow?: string[];
  deny?: string[];
  allowTypes?: string[];
  packages?: string[];
  deniedPackages?: string[];
}
export declare const LAYERS: Layer[];
export declare const SHARED: string[];
export declare const LAYER_EXCEPTIONS: Record<string, string[]>;
declare const config: Linter.Config[];
export default config;
