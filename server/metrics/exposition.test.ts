/** The exposition text as served: a NaN sample spelled as the Prometheus text format spells it. */
import { Gauge, Registry } from "prom-client";
import { describe, expect, it } from "vitest";
import { parsePrometheusText, sampleValue } from "../testing/prometheus-text.ts";
import { exposition } from "./prometheus-endpoint.ts";

describe("the exposition text", () => {
  it("writes a NaN sample as NaN (prom-client writes Nan), so a strict parser reads it", async () => {
    const registry = new Registry();
    const g = new Gauge({ name: "lag_seconds", help: "a gauge not measured yet", labelNames: ["kind"], registers: [registry] });
    g.set({ kind: "unknown" }, Number.NaN);
    g.set({ kind: "known" }, 1.5);
    const raw = await registry.metrics();
    expect(raw).toMatch(/ Nan$/m);
    expect(() => parsePrometheusText(raw)).toThrow(/'Nan' is not a sample value/);
    const text = exposition(raw);
    expect(text).not.toMatch(/Nan/);
    const families = parsePrometheusText(text);
    expect(sampleValue(families, "lag_seconds", { kind: "unknown" })).toBeNaN();
    expect(sampleValue(families, "lag_seconds", { kind: "known" })).toBe(1.5);
  });
});
