/** Helpers for the teaching scenarios' tests: run one to its outcome through the REST API. */
import { expect } from "vitest";
import type { TScenario } from "../schemas/topology.ts";
import type { apiCaller } from "./api-client.ts";
import { eventually } from "./topic-reading.ts";

type Call = ReturnType<typeof apiCaller>;

/** Waits until scenario `id` is done or failed; what the API then shows. */
export function scenarioFinished(call: Call, id: string, timeoutMs: number): Promise<TScenario> {
  return eventually(
    `scenario ${id} to finish`,
    async () => (await call("GET", `/scenarios/${id}`)).body as TScenario,
    (s) => s.state === "done" || s.state === "failed",
    timeoutMs,
  );
}

/** Starts scenario `id` (202), waits for it to finish and expects it done with its outcome reached. */
export async function runToOutcome(call: Call, id: string, timeoutMs: number): Promise<TScenario> {
  const started = await call("POST", `/scenarios/${id}/start`);
  expect(started.status, started.text).toBe(202);
  const s = await scenarioFinished(call, id, timeoutMs);
  expect(s.state, JSON.stringify(s)).toBe("done");
  expect(s.outcome?.reached, JSON.stringify(s)).toBe(true);
  return s;
}
