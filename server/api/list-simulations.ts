import type { TSimulationList } from "../schemas/topology.ts";
import { getSimulations } from "./registry.ts";

/** Every simulated producer and group with its state and counters, and the limits. */
export function listSimulations(): TSimulationList {
  return getSimulations().list();
}
