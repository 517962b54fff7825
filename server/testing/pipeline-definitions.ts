/** Pipelines as tests deploy them through the REST API against a real server. */
import { expect } from "vitest";
import type { apiCaller } from "./api-client.ts";

type Call = ReturnType<typeof apiCaller>;
type NodeConfig = Record<string, unknown> & { kind: string };

/**
 * `name`: records of `input` from its earliest, through one node (`id`, `config`), to a sink
 * creating `output` with one partition.
 */
export function throughOne(
  name: string,
  input: string,
  id: string,
  config: NodeConfig,
  output: string,
  settings?: Record<string, unknown>,
) {
  const edge = (from: string, to: string) => ({ from: { node: from, port: "out" }, to: { node: to, port: "in" } });
  return {
    name,
    nodes: [
      { id: "in", config: { kind: "source", topics: [input], start: "earliest" } },
      { id, config },
      { id: "out", config: { kind: "sink", topic: output, createTopic: { partitions: 1 } } },
    ],
    edges: [edge("in", id), edge(id, "out")],
    ...(settings ? { settings } : {}),
  };
}

/** Creates the pipeline's draft and deploys it; it must be running. */
export async function deployed(call: Call, def: { name: string }): Promise<void> {
  expect((await call("POST", "/api/v1/pipelines", { json: def })).status).toBe(201);
  expect((await call("POST", `/api/v1/pipelines/${def.name}/deploy`, { json: {} })).body.state).toBe("running");
}
