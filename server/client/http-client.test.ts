/**
 * requestBytes over real sockets: a keep-alive socket the server drops just as the next request
 * is written (its idle timeout racing the client) is retried once on a new socket; a request on
 * a new socket that fails is not.
 */
import net from "node:net";
import { afterEach, describe, expect, it } from "vitest";
import { requestBytes } from "./http-client.ts";

/**
 * An HTTP/1.1 server on a raw socket: it answers the first request of every connection with
 * keep-alive, and destroys the connection unanswered when a second request arrives on it, as a
 * server whose idle timeout fired as the request was being written would.
 */
function droppingServer(opts: { dropFirstRequests?: boolean } = {}) {
  const seen: { connection: number; body: string }[] = [];
  let connections = 0;
  const sockets = new Set<net.Socket>();
  const server = net.createServer((socket) => {
    const connection = ++connections;
    sockets.add(socket);
    socket.on("close", () => sockets.delete(socket));
    let served = 0;
    let buffered = "";
    socket.on("data", (d) => {
      buffered += d.toString("latin1");
      for (;;) {
        const end = buffered.indexOf("\r\n\r\n");
        if (end < 0) return;
        const length = Number(/content-length: (\d+)/i.exec(buffered.slice(0, end))?.[1] ?? 0);
        if (buffered.length < end + 4 + length) return;
        const body = buffered.slice(end + 4, end + 4 + length);
        buffered = buffered.slice(end + 4 + length);
        seen.push({ connection, body });
        if (served++ > 0 || opts.dropFirstRequests) {
          socket.destroy();
          return;
        }
        socket.write(`HTTP/1.1 200 OK\r\ncontent-length: ${body.length}\r\nconnection: keep-alive\r\n\r\n${body}`);
      }
    });
    socket.on("error", () => undefined);
  });
  return {
    seen,
    connections: () => connections,
    async listen(): Promise<string> {
      await new Promise<void>((r) => server.listen(0, "127.0.0.1", r));
      return `http://127.0.0.1:${(server.address() as net.AddressInfo).port}`;
    },
    close: () => {
      for (const s of sockets) s.destroy(); // the client's agent keeps its idle sockets open
      return new Promise<void>((r) => server.close(() => r()));
    },
  };
}

describe("requestBytes on keep-alive sockets", () => {
  let server: ReturnType<typeof droppingServer> | null = null;
  afterEach(async () => {
    await server?.close();
    server = null;
  });

  it("sends a request again on a new socket when the server drops the reused one unanswered", async () => {
    server = droppingServer();
    const url = await server.listen();
    const first = await requestBytes(`${url}/a`, "POST", {}, Buffer.from("one"));
    expect(first.body.toString()).toBe("one");
    // the agent hands the idle socket back; the server drops it as this request arrives
    const second = await requestBytes(`${url}/b`, "POST", {}, Buffer.from("two"));
    expect(second.status).toBe(200);
    expect(second.body.toString()).toBe("two");
    // the dropped request was seen once on the first connection, then answered on a new one
    expect(server.seen).toEqual([
      { connection: 1, body: "one" },
      { connection: 1, body: "two" },
      { connection: 2, body: "two" },
    ]);
  });

  it("does not resend a request whose new socket fails: the caller gets the error", async () => {
    server = droppingServer({ dropFirstRequests: true });
    const url = await server.listen();
    await expect(requestBytes(`${url}/a`, "POST", {}, Buffer.from("one"))).rejects.toThrow(/request failed/);
    expect(server.seen).toEqual([{ connection: 1, body: "one" }]);
  });
});
