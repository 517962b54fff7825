import type { TScenario, TScenarioId } from "../schemas/topology.ts";
import { getScenarios } from "./registry.ts";

/** One scenario: its state, steps so far and, once finished, its outcome measured from the broker. */
export function describeScenario(id: TScenarioId): TScenario {
  return getScenarios().get(id);
}
