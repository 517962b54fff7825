/**
 * The values of a simulated producer's records, from the user's template: a CEL expression (under
 * the CEL module's cost limits, never JavaScript) or a JSON value with placeholders. Both see
 * `seq` (0, 1, …), `key`, `now` (epoch ms) and `random` (in [0, 1)).
 */
import { CelCompileError, compileCel, type CelProgram, type CostMeter } from "../cel/index.ts";
import { TributaryError } from "../errors/tributary-error.ts";
import type { TValueTemplate } from "../schemas/topology.ts";

export interface TemplateInput {
  seq: number;
  key: string | null;
  now: number;
  random: number;
}

export type ValueMaker = (input: TemplateInput) => string;

const PLACEHOLDER = /\{\{(seq|key|now|random)\}\}/g;

/** Compiles the template; a CEL expression that does not compile is a 400 naming `value.expression`. */
export function valueMaker(template: TValueTemplate): ValueMaker {
  if (template.type === "json") {
    const fill = (v: unknown, input: TemplateInput): unknown => {
      if (typeof v === "string") {
        const whole = /^\{\{(seq|key|now|random)\}\}$/.exec(v);
        if (whole) return input[whole[1] as keyof TemplateInput];
        return v.replace(PLACEHOLDER, (_, name: keyof TemplateInput) => String(input[name]));
      }
      if (Array.isArray(v)) return v.map((x) => fill(x, input));
      if (v !== null && typeof v === "object") return Object.fromEntries(Object.entries(v).map(([k, x]) => [k, fill(x, input)]));
      return v;
    };
    return (input) => JSON.stringify(fill(template.template, input));
  }
  let program: CelProgram;
  try {
    program = compileCel(template.expression, {
      variables: { seq: "int", key: "dyn", now: "int", random: "double" },
      resultTypes: ["*"],
      mixedLiterals: true,
    });
  } catch (e) {
    if (e instanceof CelCompileError)
      throw new TributaryError("VALIDATION_FAILED", `value.expression: ${e.message}`, { field: "value.expression" });
    throw e;
  }
  const meter: CostMeter = program.newMeter();
  return (input) => {
    const out = program.evaluate({ seq: BigInt(input.seq), key: input.key, now: BigInt(input.now), random: input.random }, meter);
    return typeof out === "string"
      ? out
      : JSON.stringify(out, (_, x: unknown) => (typeof x === "bigint" ? Number(x) : x instanceof Map ? Object.fromEntries(x) : x));
  };
}
