/**
 * GET /metrics: the Prometheus text exposition of the broker (topics, partitions, groups and
 * their lag, traffic per topic), HTTP request latencies, WebSocket clients and the process
 * (prom-client's default metrics: memory, CPU, event-loop lag, GC). Served by server/main.ts
 * before Next; concurrent scrapes share one reading of the broker.
 */
import type { IncomingMessage, ServerResponse } from "node:http";
import { Gauge, Registry, collectDefaultMetrics } from "prom-client";
import type { Broker } from "../broker/broker.ts";
import { toErrorResponse } from "../errors/error-response.ts";
import { BrokerMetrics } from "./broker-metrics.ts";
import { HttpRequestMetrics } from "./http-request-metrics.ts";
import { TrafficTotals } from "./traffic-totals.ts";

export const METRICS_PATH = "/metrics";

/**
 * prom-client's exposition with NaN written as the format spells it: prom-client writes a NaN
 * sample as `Nan` (a CI run's scrape held one, on its line 51), which Prometheus's own parser
 * takes but a strict one refuses. Samples carry no timestamp, so a value ends its line.
 */
export function exposition(text: string): string {
  return text.replace(/ Nan$/gm, " NaN");
}

export interface PrometheusEndpoint {
  /** Times a request for the latency histogram (call once per request, first thing). */
  track(req: IncomingMessage, res: ServerResponse): void;
  /** Answers GET/HEAD /metrics. */
  serve(req: IncomingMessage, res: ServerResponse): void;
  /** The exposition text, as served. */
  render(): Promise<string>;
}

export function createPrometheusEndpoint(broker: Broker, options: { webSocketClients: () => number }): PrometheusEndpoint {
  const registry = new Registry();
  collectDefaultMetrics({ register: registry });
  const brokerMetrics = new BrokerMetrics(registry, broker, TrafficTotals.follow(broker));
  const http = new HttpRequestMetrics(registry);
  new Gauge({
    name: "tributary_websocket_clients",
    help: "WebSocket connections open at /ws (live tail, metrics feed, group members)",
    registers: [registry],
    collect() {
      this.set(options.webSocketClients());
    },
  });

  let inFlight: Promise<string> | null = null;
  const render = (): Promise<string> => {
    inFlight ??= (async () => {
      try {
        await brokerMetrics.update();
        return exposition(await registry.metrics());
      } finally {
        inFlight = null;
      }
    })();
    return inFlight;
  };

  return {
    track: (req, res) => http.track(req, res),
    render,
    serve(req, res) {
      render().then(
        (text) => {
          res.writeHead(200, {
            "content-type": registry.contentType,
            "content-length": String(Buffer.byteLength(text)),
            "cache-control": "no-store",
          });
          res.end(req.method === "HEAD" ? undefined : text);
        },
        (e: unknown) => {
          const { status, body } = toErrorResponse(e);
          const text = JSON.stringify(body);
          res.writeHead(status, { "content-type": "application/json; charset=utf-8", "cache-control": "no-store" });
          res.end(text);
        },
      );
    },
  };
}
