import type { TScenario, TScenarioId } from "../schemas/topology.ts";
import { getScenarios } from "./registry.ts";

/** Stops the scenario and deletes what it created (its topics, groups and simulations). */
export function resetScenario(id: TScenarioId): Promise<TScenario> {
  return getScenarios().reset(id);
}
