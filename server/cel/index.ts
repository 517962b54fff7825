/**
 * One CEL module for every user expression (message search today, pipelines tomorrow):
 * environment and type checks, compile with limits, evaluation under a cost budget, and the
 * linear-time (RE2) regular expressions that `matches` and topic patterns use.
 */
export {
  checkCel,
  compileCel,
  declarableType,
  CelCompileError,
  DEFAULT_CEL_LIMITS,
  type CelField,
  type CelLimits,
  type CelProgram,
  type CheckOptions,
  type CompileOptions,
} from "./compile.ts";
export { CelCostError, CostMeter } from "./cost.ts";
export { createCelEnvironment, CEL_TEXT_LIMITS, type CelVariables } from "./environment.ts";
export { compileRegex, regexProblem, RegexError, MAX_PATTERN_LENGTH, MAX_PROGRAM_SIZE, type LinearRegex } from "./regex.ts";
