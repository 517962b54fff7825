/** A real WebSocket client on a test server's /ws that keeps the JSON frames it receives, for tests to wait on. */
import WebSocket from "ws";

// eslint-disable-next-line @typescript-eslint/no-explicit-any
export type Frame = any;

export interface FrameSocket {
  ws: WebSocket;
  /** Frames received and not yet taken by `next`. */
  frames: Frame[];
  /** The first frame matching `pred`, received already or within `ms`; it is taken out of `frames`. */
  next(pred: (f: Frame) => boolean, ms?: number): Promise<Frame>;
}

export function connectFrames(serverUrl: string): Promise<FrameSocket> {
  return new Promise((resolve, reject) => {
    const ws = new WebSocket(serverUrl.replace("http", "ws") + "/ws");
    const frames: Frame[] = [];
    const waiters: { pred: (f: Frame) => boolean; resolve(f: Frame): void }[] = [];
    const take = (f: Frame) => frames.splice(frames.indexOf(f), 1);
    ws.on("message", (d) => {
      const f = JSON.parse(d.toString());
      frames.push(f);
      const w = waiters.find((x) => x.pred(f));
      if (!w) return;
      waiters.splice(waiters.indexOf(w), 1);
      take(f);
      w.resolve(f);
    });
    const next = (pred: (f: Frame) => boolean, ms = 20_000): Promise<Frame> => {
      const seen = frames.find(pred);
      if (seen) {
        take(seen);
        return Promise.resolve(seen);
      }
      return new Promise((res, rej) => {
        const timer = setTimeout(() => rej(new Error(`no matching frame within ${ms} ms; got ${JSON.stringify(frames.slice(-3))}`)), ms);
        waiters.push({ pred, resolve: (f) => (clearTimeout(timer), res(f)) });
      });
    };
    ws.once("open", () => resolve({ ws, frames, next }));
    ws.once("error", reject);
  });
}
