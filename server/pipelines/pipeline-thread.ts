/**
 * A pipeline thread: runs the PipelineRunners the main thread starts on it (pipeline-threads.ts),
 * their consumers, producers and changelog readers reaching the main thread's broker façade
 * through the port it was given (server/inproc/port-transport.ts); administration goes over
 * HTTP to the server's own address, as on the main thread.
 */
import { parentPort, workerData, type MessagePort } from "node:worker_threads";
import { portTransport } from "../inproc/port-transport.ts";
import { PipelineRunner, PipelineStartError } from "../stream/runtime/pipeline-runner.ts";
import { summaryOf, type ThreadMessage, type ThreadRequest } from "./pipeline-thread-protocol.ts";

const port = parentPort!;
const transport = portTransport((workerData as { transportPort: MessagePort }).transportPort);
const runs = new Map<number, PipelineRunner>();
const post = (m: ThreadMessage) => port.postMessage(m);

async function handle(m: ThreadRequest): Promise<unknown> {
  if (m.kind === "start") {
    const runner = new PipelineRunner({
      baseUrl: m.baseUrl,
      transport,
      definition: m.definition,
      setUp: m.setUp,
      onError: (e) => post({ kind: "unit-failed", run: m.run, message: e.message }),
      onFailed: (failure) => post({ kind: "failed", run: m.run, failure }),
    });
    runs.set(m.run, runner);
    try {
      return await runner.start();
    } catch (e) {
      runs.delete(m.run);
      await runner.stop().catch(() => undefined);
      throw e;
    }
  }
  const runner = runs.get(m.run);
  if (!runner) throw new Error(`no run ${m.run} on this thread`);
  if (m.kind === "stop") {
    runs.delete(m.run);
    await runner.stop();
    return null;
  }
  if (m.kind === "metrics") return runner.readMetrics();
  return summaryOf(runner);
}

port.on("message", (m: ThreadRequest) => {
  handle(m).then(
    (value) => post({ kind: "reply", id: m.id, value }),
    (e: Error) =>
      post({
        kind: "reply",
        id: m.id,
        error: { message: e.message, ...(e instanceof PipelineStartError ? { problems: e.problems } : {}) },
      }),
  );
});
