import { toErrorResponse } from "../errors/error-response.ts";

/**
 * Streams events as NDJSON, one JSON object per line, pulling the next event only when the
 * client has read the last (so a slow reader slows the scan instead of filling memory). An
 * error after the stream began becomes a final `{type:"error"}` line; when the client goes
 * away the generator is closed and `abort` is called.
 */
export function ndjsonResponse(events: AsyncGenerator<unknown>, abort: () => void): Response {
  const enc = new TextEncoder();
  const stream = new ReadableStream<Uint8Array>({
    async pull(controller) {
      try {
        const next = await events.next();
        if (next.done) controller.close();
        else controller.enqueue(enc.encode(JSON.stringify(next.value) + "\n"));
      } catch (e) {
        controller.enqueue(enc.encode(JSON.stringify({ type: "error", error: toErrorResponse(e).body.error }) + "\n"));
        controller.close();
      }
    },
    async cancel() {
      abort();
      await events.return(undefined).catch(() => undefined);
    },
  });
  return new Response(stream, {
    status: 200,
    headers: { "content-type": "application/x-ndjson; charset=utf-8", "cache-control": "no-store", "x-accel-buffering": "no" },
  });
}
