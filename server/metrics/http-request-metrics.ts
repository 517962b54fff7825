/**
 * Request latencies by route as a Prometheus histogram. The route label is the OpenAPI template
 * of an API path (`/api/v1/topics/{topic}/records`), never the raw URL, so the label values are
 * bounded by the route table: unknown API paths share `/api/*`, pages share `(page)`, Next's
 * static files `/_next/*`.
 */
import type { IncomingMessage, ServerResponse } from "node:http";
import { Histogram, type Registry } from "prom-client";
import { apiRouteOf } from "../http/api-methods.ts";

const METHODS = new Set(["GET", "HEAD", "POST", "PUT", "PATCH", "DELETE", "OPTIONS"]);
/** Seconds; long polls wait up to 30 s. */
const BUCKETS = [0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30];

/** A bounded label for the path of a request URL. */
export function routeLabel(url: string): string {
  const q = url.indexOf("?");
  const pathname = q < 0 ? url : url.slice(0, q);
  if (pathname === "/api" || pathname.startsWith("/api/")) return apiRouteOf(pathname) ?? (pathname === "/api/docs" ? pathname : "/api/*");
  if (pathname === "/metrics") return pathname;
  if (pathname.startsWith("/_next/")) return "/_next/*";
  return "(page)";
}

export class HttpRequestMetrics {
  private readonly duration: Histogram<"route" | "method" | "code">;

  constructor(registry: Registry) {
    this.duration = new Histogram({
      name: "tributary_http_request_duration_seconds",
      help: "Time from a request's arrival to the end of its response, by route (OpenAPI template), method and status",
      labelNames: ["route", "method", "code"],
      buckets: BUCKETS,
      registers: [registry],
    });
  }

  /** Times the request until its response ends (or the connection closes first: code "aborted"). */
  track(req: IncomingMessage, res: ServerResponse): void {
    const start = performance.now();
    res.once("close", () => {
      const method = req.method && METHODS.has(req.method) ? req.method : "other";
      const code = res.writableFinished ? String(res.statusCode) : "aborted";
      this.duration.observe({ route: routeLabel(req.url ?? "/"), method, code }, (performance.now() - start) / 1000);
    });
  }
}
