import type { TScenario, TScenarioId } from "../schemas/topology.ts";
import { getScenarios } from "./registry.ts";

/** Creates the scenario's topics and starts it in the background (a finished one is reset first). */
export function startScenario(id: TScenarioId): Promise<TScenario> {
  return getScenarios().start(id);
}
