/**
 * Runs every peer system × workload on this machine and reduces the runs to medians:
 * `runPeers({ quick, runs, records })`. A peer whose server does not answer is reported as
 * skipped (figures with metric "skipped"), never estimated. `formatTable` prints figures of any
 * systems side by side, with ratios baseline/peer when a baseline system (Tributary) is given.
 */
import type { LatencyResult, Peer, PeerFigure } from "./types.ts";
import { flushDirtyPages, median, percentile, withTimeout } from "./common.ts";
import { RedisStreamsPeer } from "./redis-streams.ts";
import { NatsJetStreamPeer } from "./nats-jetstream.ts";
import { RabbitMqStreamsPeer } from "./rabbitmq-streams.ts";
import { PostgresCopyPeer } from "./postgres-copy.ts";

export type { PeerFigure } from "./types.ts";

export interface RunPeersOptions {
  /** N = 100,000 and 3 s per latency rate; otherwise N = 1,000,000 and 10 s. */
  quick: boolean;
  /** Runs per workload; the figure is the median. Default 3. */
  runs?: number;
  /** Records per produce/consume run; overrides the quick/full default. */
  records?: number;
  /** Seconds per latency rate; overrides the quick/full default. */
  latencySeconds?: number;
  /**
   * The systems to run, in order; default allPeers(). Any `Peer` fits, so Tributary itself
   * (server/bench/tributary-system.ts) can run through the very same loop.
   */
  peers?: Peer[];
  /** Only the systems with these names; default all. */
  only?: string[];
  /**
   * Only the workloads whose names begin with one of these (e.g. "produce-1KB", "latency-10000");
   * a consume workload brings in the produce workload that writes its records. Default all.
   */
  workloads?: string[];
  /**
   * Starts measuring the system's server processes; called as each workload run begins, and
   * stopped when it ends, giving each workload its server RSS peak and CPU.
   */
  sample?: () => { stop(): Promise<{ peakRssMb: number; cpuPercent: number }> };
  /** Progress lines; default console.log. */
  log?: (line: string) => void;
}

export interface PeerSystem {
  name: string;
  status: "ok" | "skipped";
  durability: string;
  fastPath: string;
}

export interface PeerResults {
  figures: PeerFigure[];
  systems: PeerSystem[];
}

interface ProduceWorkload {
  name: string;
  size: number;
  partitions: number;
  producers: number;
  /** Name of the consume workload that reads back what this produce wrote. */
  consume?: string;
}

export const PRODUCE_WORKLOADS: ProduceWorkload[] = [
  { name: "produce-100B-1p", size: 100, partitions: 1, producers: 1, consume: "consume-100B-1p" },
  { name: "produce-100B-12p", size: 100, partitions: 12, producers: 1 },
  { name: "produce-100B-1p-4producers", size: 100, partitions: 1, producers: 4 },
  { name: "produce-1KB-1p", size: 1024, partitions: 1, producers: 1, consume: "consume-1KB-1p" },
  { name: "produce-1KB-12p", size: 1024, partitions: 12, producers: 1 },
];
/** A group of 3 consumers at the head of 12 partitions while the records are produced. */
export const GROUP_WORKLOAD = { name: "consume-100B-12p-group3-at-head", size: 100, partitions: 12, members: 3 };
/** One producer, transactions of 10,000 records each committed before the next. */
export const TXN_WORKLOAD = {
  name: "produce-100B-1p-transactional",
  size: 100,
  partitions: 1,
  producers: 1,
  recordsPerTransaction: 10_000,
};
/** A filter→map pipeline over 100-byte records: read from the start, keep half, write each kept one changed. */
export const PIPELINE_WORKLOAD = { name: "pipeline-100B-1p-filter-map", size: 100, partitions: 1 };
export const LATENCY_RATES = [1000, 10_000, 50_000];
/** Payload bytes of the latency records. */
export const LATENCY_SIZE = 100;

export const WORKLOADS = [
  ...PRODUCE_WORKLOADS.flatMap((w) => (w.consume ? [w.name, w.consume] : [w.name])),
  GROUP_WORKLOAD.name,
  TXN_WORKLOAD.name,
  PIPELINE_WORKLOAD.name,
  ...LATENCY_RATES.map((r) => `latency-${r}rps`),
];

export function allPeers(): Peer[] {
  return [new RedisStreamsPeer(), new NatsJetStreamPeer(), new RabbitMqStreamsPeer(), new PostgresCopyPeer()];
}

const round = (v: number) => Math.round(v * 100) / 100;
const message = (e: unknown) => (e instanceof Error ? e.message : String(e)).split("\n")[0].slice(0, 160);

export async function runPeers(opts: RunPeersOptions): Promise<PeerResults> {
  const runs = Math.max(1, opts.runs ?? 3);
  const records = opts.records ?? (opts.quick ? 100_000 : 1_000_000);
  const seconds = opts.latencySeconds ?? (opts.quick ? 3 : 10);
  const log = opts.log ?? ((line: string) => console.log(line));
  const figures: PeerFigure[] = [];
  const systems: PeerSystem[] = [];

  for (const peer of (opts.peers ?? allPeers()).filter((p) => !opts.only || opts.only.includes(p.name))) {
    const note = (workload: string, metric: string, text: string) =>
      figures.push({ workload, system: peer.name, metric, value: NaN, unit: "", note: text });
    let up: boolean;
    try {
      up = await peer.available();
    } catch {
      up = false;
    }
    if (!up) {
      log(`peers: ${peer.name} is not reachable: skipped`);
      systems.push({ name: peer.name, status: "skipped", durability: "not reachable", fastPath: peer.fastPath });
      for (const w of WORKLOADS) note(w, "skipped", "not reachable");
      await peer.close().catch(() => {});
      continue;
    }
    let durability: string;
    try {
      durability = await peer.durability();
    } catch (e) {
      durability = `unknown (${message(e)})`;
    }
    systems.push({ name: peer.name, status: "ok", durability, fastPath: peer.fastPath });
    log(`peers: ${peer.name}: ${records.toLocaleString("en-US")} records, ${runs} run(s), latency ${seconds} s per rate`);

    const rates = new Map<string, number[]>(); // workload → records/s per run
    const latencies = new Map<string, { p50: number; p99: number; p999: number; delivered: number }[]>();
    const failures = new Map<string, string>();
    const failed = (w: string, e: unknown) => {
      failures.set(w, message(e));
      log(`peers: ${peer.name} ${w} failed: ${message(e)}`);
    };
    const notApplicable = new Set<string>();
    const push = <T>(m: Map<string, T[]>, k: string, v: T) => m.set(k, [...(m.get(k) ?? []), v]);
    // A stuck peer fails its workload instead of hanging the benchmark (generous: 2 ms a record).
    const limit = <T>(p: Promise<T>, what: string) => withTimeout(p, 60_000 + records * 2, `${peer.name} ${what}`);
    const rss = new Map<string, number[]>();
    const cpu = new Map<string, number[]>();
    const measured = async <T>(w: string, run: () => Promise<T>): Promise<T> => {
      const probe = opts.sample?.();
      try {
        return await run();
      } finally {
        const r = await probe?.stop();
        if (r) {
          push(rss, w, r.peakRssMb);
          push(cpu, w, r.cpuPercent);
        }
      }
    };
    const selected = (w: string) => !opts.workloads || opts.workloads.some((prefix) => w.startsWith(prefix));

    try {
      for (let run = 0; run < runs; run++) {
        for (const w of PRODUCE_WORKLOADS) {
          const consume = w.consume !== undefined && selected(w.consume);
          if (!selected(w.name) && !consume) continue;
          let produced = false;
          try {
            const { ms } = await measured(w.name, () =>
              limit(peer.produce({ records, size: w.size, partitions: w.partitions, producers: w.producers }), w.name),
            );
            push(rates, w.name, records / (ms / 1000));
            produced = true;
          } catch (e) {
            failed(w.name, e);
          }
          if (w.consume && consume) {
            try {
              if (!produced) throw new Error(`${w.name} failed`);
              const r = await measured(w.consume, () =>
                limit(peer.consume({ records, size: w.size, partitions: w.partitions }), w.consume!),
              );
              if (r) push(rates, w.consume, records / (r.ms / 1000));
              else notApplicable.add(w.consume);
            } catch (e) {
              failed(w.consume, e);
            }
          }
          await peer.cleanup().catch((e) => log(`peers: ${peer.name} cleanup failed: ${message(e)}`));
        }
        const optional: [string, () => Promise<{ ms: number } | null> | null][] = [
          [GROUP_WORKLOAD.name, () => peer.consumeGroupAtHead?.({ records, ...GROUP_WORKLOAD }) ?? null],
          [TXN_WORKLOAD.name, () => peer.produceTransactional?.({ records, ...TXN_WORKLOAD }) ?? null],
          [PIPELINE_WORKLOAD.name, () => peer.pipeline?.({ records, ...PIPELINE_WORKLOAD }) ?? null],
        ];
        for (const [name, run] of optional) {
          if (!selected(name)) continue;
          try {
            const r = await measured(name, () => {
              const pending = run();
              return pending ? limit(pending, name) : Promise.resolve(null);
            });
            if (r) push(rates, name, records / (r.ms / 1000));
            else notApplicable.add(name);
          } catch (e) {
            failed(name, e);
          }
          await peer.cleanup().catch((e) => log(`peers: ${peer.name} cleanup failed: ${message(e)}`));
        }
        for (const rate of LATENCY_RATES) {
          const name = `latency-${rate}rps`;
          if (!selected(name)) continue;
          try {
            await peer.settle?.().catch((e) => log(`peers: ${peer.name} settle failed: ${message(e)}`));
            await flushDirtyPages();
            const r: LatencyResult | null = await measured(name, () => limit(peer.latency({ rate, seconds, size: LATENCY_SIZE }), name));
            if (!r) notApplicable.add(name);
            else
              push(latencies, name, {
                p50: percentile(r.latencies, 0.5),
                p99: percentile(r.latencies, 0.99),
                p999: percentile(r.latencies, 0.999),
                delivered: r.latencies.length / (r.ms / 1000),
              });
          } catch (e) {
            failed(name, e);
          }
          await peer.cleanup().catch((e) => log(`peers: ${peer.name} cleanup failed: ${message(e)}`));
        }
        log(`peers: ${peer.name}: run ${run + 1}/${runs} done`);
      }
    } finally {
      await peer.close().catch((e) => log(`peers: ${peer.name} close failed: ${message(e)}`));
    }

    for (const w of WORKLOADS) {
      const size = w.includes("1KB") ? 1024 : 100;
      const rs = rates.get(w);
      const ls = latencies.get(w);
      if (notApplicable.has(w)) {
        const why = w.startsWith("latency")
          ? "no subscribe path"
          : w === GROUP_WORKLOAD.name
            ? "no consumer-group path in this benchmark"
            : w === TXN_WORKLOAD.name
              ? "no transactions in this benchmark"
              : w === PIPELINE_WORKLOAD.name
                ? "no pipeline in this benchmark"
                : "no read path";
        note(w, "n/a", why);
      } else if (failures.has(w) && (rs?.length ?? ls?.length ?? 0) < runs) note(w, "failed", failures.get(w)!);
      if (rs?.length) {
        const r = median(rs);
        figures.push({ workload: w, system: peer.name, metric: "throughput", value: round(r), unit: "records/s" });
        figures.push({ workload: w, system: peer.name, metric: "throughput", value: round((r * size) / 1e6), unit: "MB/s" });
      }
      if (ls?.length) {
        for (const q of ["p50", "p99", "p999"] as const)
          figures.push({ workload: w, system: peer.name, metric: q, value: round(median(ls.map((l) => l[q]))), unit: "ms" });
        figures.push({
          workload: w,
          system: peer.name,
          metric: "delivered",
          value: round(median(ls.map((l) => l.delivered))),
          unit: "records/s",
        });
      }
      const peaks = rss.get(w);
      if ((rs?.length || ls?.length) && peaks?.length) {
        figures.push({ workload: w, system: peer.name, metric: "server-rss-peak", value: Math.round(Math.max(...peaks)), unit: "MB" });
        figures.push({
          workload: w,
          system: peer.name,
          metric: "server-cpu",
          value: Math.round(median(cpu.get(w)!)),
          unit: "% of one core",
        });
      }
    }
  }
  return { figures, systems };
}

/** Anything with the PeerFigure shape: Tributary's own figures from server/bench/main.ts fit. */
type AnyFigure = Pick<PeerFigure, "workload" | "system" | "metric" | "value" | "unit"> & { note?: string };

const fmt = (v: number) => v.toLocaleString("en-US", { maximumFractionDigits: Math.abs(v) >= 100 ? 0 : 2 });

/**
 * One Markdown table, a row per workload × metric × unit and a column per system. With
 * `baseline` (e.g. "tributary"), every other system's column is followed by baseline/peer, the
 * baseline's value divided by the peer's (throughput: >1 means the baseline is faster;
 * latency: >1 means the baseline is slower).
 */
export function formatTable(figures: AnyFigure[], opts: { baseline?: string } = {}): string {
  const systems = [...new Set(figures.map((f) => f.system))];
  if (opts.baseline && systems.includes(opts.baseline)) {
    systems.splice(systems.indexOf(opts.baseline), 1);
    systems.unshift(opts.baseline);
  }
  const workloads = [...new Set(figures.map((f) => f.workload))];
  const order = (w: string) => (WORKLOADS.includes(w) ? WORKLOADS.indexOf(w) : WORKLOADS.length);
  workloads.sort((a, b) => order(a) - order(b));
  const header = ["workload", "metric", "unit"];
  for (const s of systems) header.push(s, ...(opts.baseline && s !== opts.baseline ? [`${opts.baseline}/${s}`] : []));
  const lines = [`| ${header.join(" | ")} |`, `|${header.map((_, i) => (i < 3 ? "---" : "---:")).join("|")}|`];
  for (const w of workloads) {
    const of = figures.filter((f) => f.workload === w);
    const measured = [...new Set(of.filter((f) => Number.isFinite(f.value)).map((f) => `${f.metric}\u0000${f.unit}`))];
    const rows = measured.length ? measured : [`-\u0000`];
    for (const key of rows) {
      const [metric, unit] = key.split("\u0000");
      const cells = [w, metric, unit];
      const base = opts.baseline ? of.find((f) => f.system === opts.baseline && f.metric === metric && f.unit === unit) : undefined;
      for (const s of systems) {
        const f = of.find((x) => x.system === s && x.metric === metric && x.unit === unit && Number.isFinite(x.value));
        const why = of.find((x) => x.system === s && !Number.isFinite(x.value));
        cells.push(f ? fmt(f.value) : why ? `${why.metric}${why.note ? `: ${why.note}` : ""}` : "");
        if (opts.baseline && s !== opts.baseline)
          cells.push(f && base && Number.isFinite(base.value) && f.value !== 0 ? (base.value / f.value).toFixed(2) : "");
      }
      lines.push(`| ${cells.join(" | ")} |`);
    }
  }
  return lines.join("\n");
}

/** Markdown bullets: per peer system, its durability as read from the server and the fast path used. */
export function formatSystems(systems: PeerSystem[]): string {
  return systems
    .map((s) =>
      s.status === "skipped"
        ? `- **${s.name}**: skipped (not reachable)`
        : `- **${s.name}**: ${s.durability}. Client fast path: ${s.fastPath}.`,
    )
    .join("\n");
}
