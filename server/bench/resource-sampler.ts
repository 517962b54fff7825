/**
 * Server resources while a benchmark runs: peak RSS (sampled every 200 ms) and mean CPU of a
 * set of processes (a system's servers, found by name), read from /proc.
 */
import { execSync } from "node:child_process";
import { readFile } from "node:fs/promises";

/** Server processes of each system, found by name (their resources are what the table reports). */
export const SERVER_PROCESSES: Record<string, string[]> = {
  "redis-streams": ["redis-server"],
  "nats-jetstream": ["nats-server"],
  "rabbitmq-streams": ["beam.smp"],
  "postgres-copy": ["postgres"],
};

export function pidsOf(names: string[]): number[] {
  const out: number[] = [];
  for (const n of names) {
    try {
      out.push(...execSync(`pgrep -x ${n}`, { encoding: "utf8" }).trim().split("\n").filter(Boolean).map(Number));
    } catch {
      // none running
    }
  }
  return out;
}

const TICKS = 100; // USER_HZ on Linux

async function cpuAndRss(pids: number[]): Promise<{ cpuSeconds: number; rss: number }> {
  let cpu = 0;
  let rss = 0;
  for (const pid of pids) {
    try {
      const stat = (await readFile(`/proc/${pid}/stat`, "utf8")).split(") ")[1].split(" ");
      cpu += (Number(stat[11]) + Number(stat[12])) / TICKS; // utime + stime
      const m = /VmRSS:\s+(\d+) kB/.exec(await readFile(`/proc/${pid}/status`, "utf8"));
      rss += m ? Number(m[1]) * 1024 : 0;
    } catch {
      // exited
    }
  }
  return { cpuSeconds: cpu, rss };
}

/** Peak RSS and mean CPU of a set of processes while a system's workloads run. */
export class ResourceSampler {
  private peak = 0;
  private timer: NodeJS.Timeout;
  private start!: { cpuSeconds: number; at: number };
  private ready: Promise<void>;

  constructor(private readonly pids: number[]) {
    this.ready = cpuAndRss(pids).then((s) => {
      this.start = { cpuSeconds: s.cpuSeconds, at: performance.now() };
      this.peak = s.rss;
    });
    this.timer = setInterval(() => void cpuAndRss(pids).then((s) => (this.peak = Math.max(this.peak, s.rss))), 200);
  }

  async stop(): Promise<{ peakRssMb: number; cpuPercent: number }> {
    clearInterval(this.timer);
    await this.ready;
    const end = await cpuAndRss(this.pids);
    const seconds = (performance.now() - this.start.at) / 1000;
    return { peakRssMb: Math.max(this.peak, end.rss) / 1e6, cpuPercent: (100 * (end.cpuSeconds - this.start.cpuSeconds)) / seconds };
  }
}

