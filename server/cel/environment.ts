/**
 * CEL environments: which variables an expression may use and the structural limits of its
 * text. Expressions are parsed and type-checked by cel-js (no loops but comprehensions, no host
 * code): user text is never handed to eval/Function/vm.
 */
import { Environment } from "@marcbachmann/cel-js";

/** Variable name → CEL type (`dyn`, `int`, `map<string, string>`, `google.protobuf.Timestamp`…). */
export type CelVariables = Readonly<Record<string, string>>;

/** Structural limits of the expression text (cel-js enforces them while parsing). */
export const CEL_TEXT_LIMITS = { maxAstNodes: 2000, maxDepth: 64, maxListElements: 1000, maxMapEntries: 1000, maxCallArguments: 32 };

/**
 * An environment declaring `variables`, with the text limits above. `mixedLiterals` lets list
 * and map literals hold values of different types (`{"user": value.user, "n": 1}` is a
 * `map<string, dyn>`, as cel-go checks it): what pipeline expressions that build records need.
 * `nullableScalars` lets strings and bytes be compared with null (`key != null`), for variables
 * declared `string` or `bytes` that may hold null, as a Kafka record's key and value may; it
 * answers what comparing the runtime values gives (`"a" == null` is false).
 */
export function createCelEnvironment(variables: CelVariables, mixedLiterals = false, nullableScalars = false): Environment {
  const env = new Environment({ limits: CEL_TEXT_LIMITS, homogeneousAggregateLiterals: !mixedLiterals });
  for (const [name, type] of Object.entries(variables)) env.registerVariable(name, type);
  if (nullableScalars) {
    for (const type of ["string", "bytes"]) env.registerOperator(`${type} == null`, (a: unknown, b: unknown) => a === b);
  }
  return env;
}
