/**
 * Server resources while a benchmark runs: peak RSS and mean CPU of a set of processes (a
 * system's servers, found by name), read from /proc.
 */
import { execSync } from "node:child_process";
import { readFileSync, writeFileSync } from "node:fs";

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

function status(pid: number, field: "VmRSS" | "VmHWM"): number {
  const m = new RegExp(`${field}:\\s+(\\d+) kB`).exec(readFileSync(`/proc/${pid}/status`, "utf8"));
  return m ? Number(m[1]) * 1024 : 0;
}

function cpuSeconds(pids: number[]): number {
  let cpu = 0;
  for (const pid of pids) {
    try {
      const stat = readFileSync(`/proc/${pid}/stat`, "utf8").split(") ")[1].split(" ");
      cpu += (Number(stat[11]) + Number(stat[12])) / TICKS; // utime + stime
    } catch {
      // exited
    }
  }
  return cpu;
}

function sum(pids: number[], field: "VmRSS" | "VmHWM"): number {
  let total = 0;
  for (const pid of pids) {
    try {
      total += status(pid, field);
    } catch {
      // exited
    }
  }
  return total;
}

/**
 * Peak RSS and mean CPU of a set of processes between construction and stop(). The peak is the
 * kernel's own high-water mark (VmHWM, reset on start through /proc/PID/clear_refs), so no
 * moment is missed; where that reset is not allowed, RSS sampled every 200 ms instead. Start
 * and end are read synchronously, so a busy benchmark loop cannot shift them. For several
 * processes the peaks are summed (for PostgreSQL that counts shared buffers once per process).
 */
export class ResourceSampler {
  private sampledPeak: number;
  private readonly timer: NodeJS.Timeout;
  private readonly start: { cpuSeconds: number; at: number };
  private readonly highWaterMarks: boolean;

  /** `resetHighWaterMarks` false: leave the kernel's marks alone (another sampler owns them) and sample. */
  constructor(
    private readonly pids: number[],
    resetHighWaterMarks = true,
  ) {
    this.highWaterMarks =
      resetHighWaterMarks &&
      pids.every((pid) => {
        try {
          writeFileSync(`/proc/${pid}/clear_refs`, "5");
          return true;
        } catch {
          return false;
        }
      });
    this.start = { cpuSeconds: cpuSeconds(pids), at: performance.now() };
    this.sampledPeak = sum(pids, "VmRSS");
    this.timer = setInterval(() => (this.sampledPeak = Math.max(this.sampledPeak, sum(pids, "VmRSS"))), 200);
  }

  async stop(): Promise<{ peakRssMb: number; cpuPercent: number }> {
    clearInterval(this.timer);
    const cpu = cpuSeconds(this.pids);
    const seconds = (performance.now() - this.start.at) / 1000;
    const peak = this.highWaterMarks ? sum(this.pids, "VmHWM") : Math.max(this.sampledPeak, sum(this.pids, "VmRSS"));
    return { peakRssMb: peak / 1e6, cpuPercent: (100 * (cpu - this.start.cpuSeconds)) / seconds };
  }
}
