/**
 * The stream-processing workloads of `npm run bench` (issue #15's Speed section), selected with
 * `--workloads stream-` like any other: pipelines the Tributary server runs exactly-once
 * (server/bench/stream-tributary.ts) and, where a peer can run the same logic in its client
 * at-least-once, that peer beside it. Figures have the shape of every other workload's, plus a
 * summary of the medians against the issue's targets.
 */
import { allPeers } from "./peers/run-peers.ts";
import { flushDirtyPages, median, percentile } from "./peers/common.ts";
import type { PeerFigure } from "./peers/types.ts";
import { peerJoin, peerWindow, streamTransports, type StreamTransport } from "./stream-peers.ts";
import { ResourceSampler } from "./resource-sampler.ts";
import type { ServerProcess } from "../testing/server-process.ts";
import { COMMIT_INTERVAL_MS, FULL_SIZES, QUICK_SIZES, RECORD_BYTES, type StreamSizes } from "./stream-pipelines.ts";
import { TributaryStreams, type ThroughputRun } from "./stream-tributary.ts";

export const STREAM_WORKLOADS = {
  stateless: "stream-stateless-100B-filter-map-eos",
  window: "stream-window-count-10k-keys-1min-final",
  join: "stream-join-table-100k-keys",
  latency: "stream-latency-10000rps",
  restore: "stream-restore-after-sigkill",
} as const;

/** The issue's targets, printed beside the medians. */
const TARGETS = {
  stateless: 1_000_000,
  window: 500_000,
  join: 300_000,
  latencyP99Ms: COMMIT_INTERVAL_MS + 50,
  restoreMs: 5_000,
  restoreKeys: 1_000_000,
  rssMb: 512,
};

export interface StreamOptions {
  quick: boolean;
  runs: number;
  /** systems by name (tributary, redis-streams, …); default all */
  only?: string[];
  /** workload name prefixes; default all */
  workloads?: string[];
  server: ServerProcess;
  /** before each latency run: the server's database checkpointed (as the broker's latency workloads begin) */
  settle?: () => Promise<void>;
  log?: (line: string) => void;
}

const round = (v: number) => Math.round(v * 100) / 100;
const message = (e: unknown) => (e instanceof Error ? e.message : String(e)).split("\n")[0].slice(0, 200);
const fmt = (v: number) => Math.round(v).toLocaleString("en-US");

export async function runStreamWorkloads(opts: StreamOptions): Promise<{ figures: PeerFigure[]; summary: string }> {
  const log = opts.log ?? ((line: string) => console.log(line));
  const sizes: StreamSizes = opts.quick ? QUICK_SIZES : FULL_SIZES;
  const selected = (w: string) => !opts.workloads || opts.workloads.some((p) => w.startsWith(p));
  const wanted = (system: string) => !opts.only || opts.only.includes(system);
  const figures: PeerFigure[] = [];
  const summary: string[] = [];
  if (!Object.values(STREAM_WORKLOADS).some(selected)) return { figures, summary: "" };

  const figure = (workload: string, system: string, metric: string, value: number, unit: string) =>
    figures.push({ workload, system, metric, value: round(value), unit });
  const failed = (workload: string, system: string, e: unknown) => {
    log(`stream: ${system} ${workload} failed: ${message(e)}`);
    figures.push({ workload, system, metric: "failed", value: NaN, unit: "", note: message(e) });
    if (system === "tributary") summary.push(`- ${workload}: failed: ${message(e)}`);
  };

  if (wanted("tributary")) {
    const server = opts.server;
    const t = new TributaryStreams(server, log);
    /** server peak RSS per workload (MB, over its runs) and CPU per run */
    const resources = new Map<string, { rss: number[]; cpu: number[] }>();
    /** The server's peak RSS and CPU over `run` (none when its process changed: a restart's own samplers note those). */
    const sampled = async <T>(w: string, run: () => Promise<T>): Promise<T> => {
      const pid = server.pid;
      const sampler = new ResourceSampler([pid]);
      try {
        return await run();
      } finally {
        const r = await sampler.stop();
        if (server.pid === pid) note(w, r);
      }
    };
    const note = (w: string, r: { peakRssMb: number; cpuPercent: number }) => {
      const entry = resources.get(w) ?? { rss: [], cpu: [] };
      entry.rss.push(r.peakRssMb);
      entry.cpu.push(r.cpuPercent);
      resources.set(w, entry);
    };
    const throughput = async (w: string, target: number, run: () => Promise<ThroughputRun>) => {
      if (!selected(w)) return;
      const rates: number[] = [];
      const startups: number[] = [];
      try {
        for (let i = 0; i < opts.runs; i++) {
          const r = await sampled(w, run);
          rates.push(r.records / (r.ms / 1000));
          startups.push(r.startupMs);
          log(
            `stream: tributary ${w} run ${i + 1}: ${fmt(rates.at(-1)!)} records/s (${fmt(r.records)} in ${fmt(r.ms)} ms, start-up ${fmt(r.startupMs)} ms)`,
          );
          await t.cleanup();
        }
      } catch (e) {
        failed(w, "tributary", e);
        await t.cleanup().catch(() => undefined);
      }
      if (rates.length === 0) return;
      figure(w, "tributary", "throughput", median(rates), "records/s");
      figure(w, "tributary", "throughput", (median(rates) * RECORD_BYTES) / 1e6, "MB/s");
      figure(w, "tributary", "start-up", median(startups), "ms");
      summary.push(`- ${w}: ${fmt(median(rates))} records/s (target ≥ ${fmt(target)}: ${median(rates) >= target ? "met" : "not met"})`);
    };

    log(`stream: tributary: ${opts.runs} run(s) per workload, ${opts.quick ? "quick" : "full"} sizes`);
    await throughput(STREAM_WORKLOADS.stateless, TARGETS.stateless, () => t.stateless(sizes.stateless));
    await throughput(STREAM_WORKLOADS.window, TARGETS.window, () => t.window(sizes.window));
    await throughput(STREAM_WORKLOADS.join, TARGETS.join, () => t.join(sizes.join));

    const lw = STREAM_WORKLOADS.latency;
    if (selected(lw)) {
      const runs: { p50: number; p99: number; p999: number; warmUpP99: number; delivered: number }[] = [];
      const { rate, seconds, warmSeconds } = sizes.latency;
      try {
        for (let i = 0; i < opts.runs; i++) {
          await opts.settle?.().catch((e) => log(`stream: settle failed: ${message(e)}`));
          await flushDirtyPages();
          const r = await sampled(lw, () => t.latency(rate, seconds, warmSeconds));
          runs.push({
            p50: percentile(r.latencies, 0.5),
            p99: percentile(r.latencies, 0.99),
            p999: percentile(r.latencies, 0.999),
            warmUpP99: percentile(r.warmUp, 0.99),
            delivered: r.delivered,
          });
          const l = runs.at(-1)!;
          log(
            `stream: tributary ${lw} run ${i + 1}: p50 ${l.p50.toFixed(1)} ms, p99 ${l.p99.toFixed(1)} ms (the ${warmSeconds} s warm-up before: p99 ${l.warmUpP99.toFixed(1)} ms), ${fmt(l.delivered)} records/s delivered`,
          );
          await t.cleanup();
        }
      } catch (e) {
        failed(lw, "tributary", e);
        await t.cleanup().catch(() => undefined);
      }
      if (runs.length > 0) {
        for (const q of ["p50", "p99", "p999"] as const) figure(lw, "tributary", q, median(runs.map((r) => r[q])), "ms");
        figure(lw, "tributary", `p99 of the ${warmSeconds} s warm-up`, median(runs.map((r) => r.warmUpP99)), "ms");
        figure(lw, "tributary", "delivered", median(runs.map((r) => r.delivered)), "records/s");
        const p99 = median(runs.map((r) => r.p99));
        summary.push(
          `- ${lw}: p99 ${p99.toFixed(1)} ms over ${seconds} s after a ${warmSeconds} s warm-up at the same rate (target ≤ ${TARGETS.latencyP99Ms} ms: ${p99 <= TARGETS.latencyP99Ms ? "met" : "not met"}; the warm-up's own p99: ${median(runs.map((r) => r.warmUpP99)).toFixed(1)} ms)`,
        );
      }
    }

    const rw = STREAM_WORKLOADS.restore;
    const keys = Number(process.env.TRIBUTARY_BENCH_RESTORE_KEYS) || sizes.restore.keys;
    if (selected(rw)) {
      try {
        // one store, built once; each run kills the server and restores it (each process sampled apart)
        const r = await t.restore(keys, opts.runs, () => {
          const pid = server.pid;
          const s = new ResourceSampler([pid]);
          return async () => {
            const res = await s.stop();
            if (server.pid === pid) note(rw, res);
          };
        });
        await t.cleanup();
        const fromStart = median(r.runs.map((x) => x.fromStartMs));
        figure(rw, "tributary", "store keys", keys, "keys");
        figure(rw, "tributary", "processing again after server start", fromStart, "ms");
        figure(rw, "tributary", "processing again after SIGKILL", median(r.runs.map((x) => x.fromKillMs)), "ms");
        figure(rw, "tributary", "store build", keys / (r.buildMs / 1000), "records/s");
        summary.push(
          `- ${rw}: ${fmt(keys)} keys restored and processing again ${fmt(fromStart)} ms after the new server listened (target: ${fmt(TARGETS.restoreKeys)} keys ≤ ${fmt(TARGETS.restoreMs)} ms${keys >= TARGETS.restoreKeys ? `: ${fromStart <= TARGETS.restoreMs ? "met" : "not met"}` : ""})`,
        );
      } catch (e) {
        failed(rw, "tributary", e);
        await t.cleanup().catch(() => undefined);
      }
    }

    let peak = 0;
    for (const [w, r] of resources) {
      figure(w, "tributary", "server-rss-peak", Math.max(...r.rss), "MB");
      figure(w, "tributary", "server-cpu", median(r.cpu), "% of one core");
      peak = Math.max(peak, ...r.rss);
    }
    if (resources.size > 0)
      summary.push(
        `- server RSS peak over these workloads: ${fmt(peak)} MB (target < ${TARGETS.rssMb} MB: ${peak < TARGETS.rssMb ? "met" : "not met"})`,
      );
  }

  // the peers: the same logic over the same input, in their clients, at-least-once
  const peerRuns = async (
    name: string,
    w: string,
    records: number,
    run: () => Promise<{ ms: number } | null>,
    close: () => Promise<void>,
  ) => {
    try {
      const rates: number[] = [];
      for (let i = 0; i < opts.runs; i++) {
        const r = await run();
        if (!r) return;
        rates.push(records / (r.ms / 1000));
        log(`stream: ${name} ${w} run ${i + 1}: ${fmt(rates.at(-1)!)} records/s (in the client)`);
      }
      figure(w, name, "throughput", median(rates), "records/s");
      figure(w, name, "throughput", (median(rates) * RECORD_BYTES) / 1e6, "MB/s");
    } catch (e) {
      failed(w, name, e);
    } finally {
      await close().catch(() => undefined);
    }
  };
  const sw = STREAM_WORKLOADS.stateless;
  if (selected(sw)) {
    // today's client-driven filter→map of each peer (peers/*.ts), on this workload's input size
    for (const peer of allPeers().filter((p) => p.pipeline && wanted(p.name))) {
      if (!(await peer.available().catch(() => false))) {
        log(`stream: ${peer.name} is not reachable: skipped`);
        await peer.close().catch(() => undefined);
        continue;
      }
      const run = async () => {
        const r = await peer.pipeline!({ records: sizes.stateless, size: RECORD_BYTES, partitions: 1 });
        await peer.cleanup();
        return r;
      };
      await peerRuns(peer.name, sw, sizes.stateless, run, () => peer.close());
    }
  }
  const stateful: [string, number, (t: StreamTransport) => Promise<{ ms: number }>][] = [
    [STREAM_WORKLOADS.window, sizes.window.records + 1, (t) => peerWindow(t, sizes.window)],
    [STREAM_WORKLOADS.join, sizes.join.records, (t) => peerJoin(t, sizes.join)],
  ];
  for (const t of streamTransports().filter((x) => wanted(x.name))) {
    const mine = stateful.filter(([w]) => selected(w));
    if (mine.length === 0 || !(await t.available())) {
      if (mine.length > 0) log(`stream: ${t.name} is not reachable: skipped`);
      await t.close();
      continue;
    }
    for (const [w, records, run] of mine) {
      const once = async () => {
        try {
          return await run(t);
        } finally {
          await t.cleanup();
        }
      };
      await peerRuns(t.name, w, records, once, async () => undefined);
    }
    await t.close();
  }
  return { figures, summary: summary.length ? `Stream workloads against issue #15's targets (medians):\n${summary.join("\n")}` : "" };
}
