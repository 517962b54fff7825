/**
 * Stream processing: the fraud-alert pipeline template deployed on the scenario's own topics —
 * purchases keyed by user (through a repartition topic), counted per user per hour (tumbling
 * windows on event time, final results only), more than 10 → an alert. A simulated producer
 * writes purchases with event times in one past hour, a few hot users making most of them;
 * once it stops the inputs go idle, event time advances with the wall clock and the window
 * closes. The outcome: the alerts topic holds exactly the users (and counts) that the purchases
 * read back from the broker imply.
 *
 * It creates its own pipeline (`scenario-fraud-<run>`), refusing to start if a pipeline of that
 * name or a topic of its internal prefix exists; reset deletes the pipeline, its internal topics
 * and its group.
 */
import { callJson, TributaryClientError } from "../../client/http-client.ts";
import { PIPELINE_TEMPLATES } from "../../schemas/pipeline-templates.ts";
import { readAll, type ScenarioContext, type ScenarioScript } from "./scenario-script.ts";

const PURCHASES = "scenario-fraud.purchases";
const ALERTS = "scenario-fraud.alerts";
const PARTITIONS = 3;
const HOUR = 3_600_000;
/** Over this many purchases in an hour a user is alerted (the template's `value.count > 10`). */
const THRESHOLD = 10;
const RATE = 40;
const TARGET = 240;
/** Event-time seconds between consecutive purchases: TARGET of them fill 48 minutes of one hour. */
const SPACING_S = 12;

interface Alert {
  user: string;
  purchases: number;
  windowStart: number;
}

/** Users with more than THRESHOLD purchases in a tumbling hour, by event time (`at`, RFC 3339). */
export function expectedAlerts(purchases: { user: string; at: string }[]): Alert[] {
  const counts = new Map<string, number>();
  for (const p of purchases) {
    const windowStart = Math.floor(Date.parse(p.at) / HOUR) * HOUR;
    const k = `${p.user}\u0000${windowStart}`;
    counts.set(k, (counts.get(k) ?? 0) + 1);
  }
  return [...counts]
    .filter(([, n]) => n > THRESHOLD)
    .map(([k, purchases]) => {
      const [user, start] = k.split("\u0000");
      return { user, purchases, windowStart: Number(start) };
    })
    .sort(byUserAndWindow);
}

/**
 * The CEL of a purchase's event time: the template reads `timestamp(value.at)`, an RFC 3339
 * string (a JSON number arrives as a double, which `timestamp` does not take). Purchase `seq` is
 * at `hourStart + seq × SPACING_S`, held at the hour's last second past its end, so event time
 * never goes back and never leaves the hour.
 */
function eventTimeOf(hourStart: number): string {
  const perMinute = 60 / SPACING_S;
  const last = (HOUR / 1000 / SPACING_S) | 0;
  const two = (n: string) => `(${n} < 10 ? "0" : "") + string(${n})`;
  const minute = `seq / ${perMinute}`;
  const second = `seq % ${perMinute} * ${SPACING_S}`;
  const prefix = new Date(hourStart).toISOString().slice(0, 14); // 2026-12-06T19:
  return `"${prefix}" + (seq >= ${last} ? "59:59" : ${two(minute)} + ":" + ${two(second)}) + "Z"`;
}

const byUserAndWindow = (a: Alert, b: Alert) => a.user.localeCompare(b.user) || a.windowStart - b.windowStart;
const alertKey = (a: Alert) => `${a.user}@${a.windowStart}=${a.purchases}`;

/** The template, renamed onto the scenario's topics. */
function fraudPipeline(name: string): Record<string, unknown> & { name: string } {
  const template = PIPELINE_TEMPLATES.find((t) => t.id === "fraud-alert");
  if (!template) throw new Error("the fraud-alert pipeline template is missing");
  const def = structuredClone(template.definition);
  return {
    ...def,
    name,
    description: "Teaching scenario: alert when a user makes more than 10 purchases in an hour",
    nodes: def.nodes.map((n) => {
      if (n.config.kind === "source") return { ...n, config: { ...n.config, topics: [PURCHASES] } };
      if (n.config.kind === "sink") return { ...n, config: { kind: "sink" as const, topic: ALERTS } };
      return n;
    }),
  };
}

const pipelinePath = (name: string) => `/api/v1/pipelines/${encodeURIComponent(name)}`;

async function pipelineExists(ctx: ScenarioContext, name: string): Promise<boolean> {
  return callJson(ctx.baseUrl, "GET", pipelinePath(name)).then(
    () => true,
    (e: unknown) => (e instanceof TributaryClientError && e.status === 404 ? false : Promise.reject(e)),
  );
}

const internalTopics = async (ctx: ScenarioContext, name: string) =>
  (await ctx.admin.listTopics()).map((t) => t.name).filter((t) => t.startsWith(`pipeline-${name}-`));

export const streamProcessingFraud: ScenarioScript = {
  id: "stream-processing-fraud",
  title: "Stream processing",
  explanation:
    "A pipeline (from the fraud-alert template) keys purchases by user, counts each user's purchases per hour of event time and sends an alert when a user makes more than 10. " +
    "Simulated purchases of one past hour, a few users making most of them, flow through it; when they stop, event time advances with the clock, the hour's window closes and its alerts come out. " +
    "The alerts topic then holds exactly the users the purchases imply.",
  topics: { [PURCHASES]: PARTITIONS, [ALERTS]: 1 },
  async run(ctx) {
    const name = `scenario-fraud-${ctx.run}`;
    if (await pipelineExists(ctx, name))
      throw new Error(`a pipeline '${name}' exists and this scenario did not create it; it was left alone`);
    const leftovers = await internalTopics(ctx, name);
    if (leftovers.length > 0) throw new Error(`topic '${leftovers[0]}' exists and this scenario did not create it; it was left alone`);

    // event times in one hour that closed long ago: its window closes as soon as the input is idle
    const hourStart = Math.floor(Date.now() / HOUR) * HOUR - 3 * HOUR;
    const producer = await ctx.simulations.createProducer({
      topic: PURCHASES,
      ratePerSec: RATE,
      keys: { type: "hot", count: 20, hot: 3, hotShare: 0.6 },
      value: {
        type: "cel",
        expression: `{"user": "user-" + key.substring(4), "item": "sku-" + string(seq % 50), "at": ${eventTimeOf(hourStart)}}`,
      },
      clientId: `scenario-fraud-shop-${ctx.run}`,
      idempotent: true,
      paused: false,
    });
    void ctx.own("simulation", producer.id);
    ctx.step(
      `A producer writes ${RATE} purchases/s to ${PURCHASES} (${PARTITIONS} partitions) for 20 users, 3 of them making most; event times run through the hour from ${new Date(hourStart).toISOString().slice(11, 16)} UTC`,
    );
    await ctx.until(
      "the first purchases",
      async () => ctx.simulations.getProducer(producer.id).produced,
      (n) => n > 0,
      30_000,
    );

    let created = false;
    ctx.defer(async () => {
      if (created) await callJson(ctx.baseUrl, "DELETE", pipelinePath(name)).catch(() => undefined);
      for (const t of await internalTopics(ctx, name)) await ctx.admin.deleteTopic(t).catch(() => undefined);
    });
    await ctx.own("pipeline", name);
    await callJson(ctx.baseUrl, "POST", "/api/v1/pipelines", fraudPipeline(name));
    created = true;
    await ctx.own("group", `pipeline-${name}`);
    await callJson(ctx.baseUrl, "POST", `${pipelinePath(name)}/deploy`, {});
    for (const t of await internalTopics(ctx, name)) await ctx.own("topic", t);
    ctx.step(
      `Pipeline ${name} deployed from the fraud-alert template: key by user → count per user per hour → more than 10 → alert to ${ALERTS}`,
    );

    await ctx.until(
      `${TARGET} purchases produced`,
      async () => ctx.simulations.getProducer(producer.id).produced,
      (n) => n >= TARGET,
      60_000,
    );
    ctx.simulations.updateProducer(producer.id, { paused: true });
    ctx.step(
      `The producer stops after ${ctx.simulations.getProducer(producer.id).produced} purchases; the inputs go idle and event time moves on with the clock`,
    );

    // what the purchases imply, from the broker
    await ctx.sleep(500);
    const purchases = (await readAll(ctx.baseUrl, PURCHASES, PARTITIONS, "read_committed")).map(
      (r) => JSON.parse(r.value) as { user: string; at: string },
    );
    const expected = expectedAlerts(purchases);
    ctx.step(`${purchases.length} purchases read back: ${expected.length} users made more than ${THRESHOLD} in the hour`);

    const readAlerts = async (): Promise<Alert[]> =>
      (await readAll(ctx.baseUrl, ALERTS, 1, "read_committed"))
        .map((r) => JSON.parse(r.value) as { user: string; purchases: number; windowStart: number | string })
        .map((a) => ({
          user: a.user,
          purchases: a.purchases,
          windowStart: typeof a.windowStart === "number" ? a.windowStart : Date.parse(a.windowStart),
        }))
        .sort(byUserAndWindow);
    await ctx.until(
      "the hour's window to close and its alerts to arrive",
      async () => ({ alerts: await readAlerts(), group: await ctx.admin.describeGroup(`pipeline-${name}`) }),
      (v) => v.alerts.length >= expected.length && v.group.totalLag === 0,
      120_000,
    );
    // a moment more: anything extra would show now
    await ctx.sleep(1000);
    const alerts = await readAlerts();
    const metrics = await callJson<{ totals: { recordsIn: number; late: number; errors: number } }>(
      ctx.baseUrl,
      "GET",
      `${pipelinePath(name)}/metrics`,
    );
    const want = new Set(expected.map(alertKey));
    const got = new Set(alerts.map(alertKey));
    const missing = [...want].filter((k) => !got.has(k)).length;
    // wrong users or counts, and alerts given twice
    const unexpected = alerts.length - [...got].filter((k) => want.has(k)).length;
    const alerted = alerts.map((a) => `${a.user} (${a.purchases})`).join(", ") || "none";
    ctx.step(`${ALERTS} holds ${alerts.length} alerts: ${alerted}`);
    return {
      reached: expected.length > 0 && missing === 0 && unexpected === 0 && alerts.length === expected.length,
      summary:
        `${purchases.length} purchases by ${new Set(purchases.map((p) => p.user)).size} users; ${expected.length} made more than ${THRESHOLD} in the hour. ` +
        `The pipeline's alerts: ${alerted} — ${missing === 0 && unexpected === 0 ? "exactly the expected users" : `${missing} missing, ${unexpected} unexpected`}`,
      measures: {
        purchases: purchases.length,
        users: new Set(purchases.map((p) => p.user)).size,
        expectedAlerts: expected.length,
        alerts: alerts.length,
        missingAlerts: missing,
        unexpectedAlerts: unexpected,
        alertedUsers: alerts.map((a) => a.user).join(", ") || "none",
        lateRecords: metrics.totals.late,
        pipeline: name,
      },
    };
  },
};
