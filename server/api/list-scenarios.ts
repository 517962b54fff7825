import type { TScenarioList } from "../schemas/topology.ts";
import { getScenarios } from "./registry.ts";

/** The teaching scenarios with their explanation, state, steps and measured outcome. */
export function listScenarios(): TScenarioList {
  return { scenarios: getScenarios().list() };
}
