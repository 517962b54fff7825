/**
 * The one way route handlers reach the running engine: the server process registers it on
 * globalThis at start-up (Next bundles route code separately, so a module-level singleton would
 * be a second, empty copy).
 */
import type { Broker } from "../broker/broker.ts";
import type { PipelineManager } from "../pipelines/pipeline-manager.ts";
import type { SimulationManager } from "../simulation/simulation-manager.ts";
import type { ScenarioManager } from "../simulation/scenarios/scenario-manager.ts";
import { ApiError } from "./api-error.ts";

export interface TributaryRuntime {
  broker: Broker;
  database: "embedded" | "postgres";
  startedAt: number;
  /** Set once the server listens (pipelines reach it through the client at its own address). */
  pipelines?: PipelineManager;
  /** Set once the server listens (simulated clients reach it through the client at its own address). */
  simulations?: SimulationManager;
  /** The teaching scenarios, built on the simulations. */
  scenarios?: ScenarioManager;
}

const KEY = Symbol.for("tributary.runtime");

export function registerRuntime(runtime: TributaryRuntime): void {
  (globalThis as Record<symbol, unknown>)[KEY] = runtime;
}

export function getRuntime(): TributaryRuntime {
  const r = (globalThis as Record<symbol, unknown>)[KEY] as TributaryRuntime | undefined;
  if (!r) throw new ApiError("BROKER_NOT_AVAILABLE", "the broker is not running in this process (start Tributary with `npm start`)");
  return r;
}

export function getBroker(): Broker {
  return getRuntime().broker;
}

export function getPipelines(): PipelineManager {
  const p = getRuntime().pipelines;
  if (!p) throw new ApiError("BROKER_NOT_AVAILABLE", "pipelines are not running in this process yet (the server is starting)");
  return p;
}

export function getSimulations(): SimulationManager {
  const s = getRuntime().simulations;
  if (!s) throw new ApiError("BROKER_NOT_AVAILABLE", "simulations are not running in this process yet (the server is starting)");
  return s;
}

export function getScenarios(): ScenarioManager {
  const s = getRuntime().scenarios;
  if (!s) throw new ApiError("BROKER_NOT_AVAILABLE", "scenarios are not running in this process yet (the server is starting)");
  return s;
}
