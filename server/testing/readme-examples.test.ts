/**
 * README.md's "Use it from code" examples run as written against a real server: the TypeScript
 * program (the client's produce, group consumption and a transaction) and the curl session (over
 * JSON, with jq). Only the server's address is replaced. Afterwards the server holds what the
 * examples say they did.
 */
import { execFile } from "node:child_process";
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import os from "node:os";
import path from "node:path";
import { promisify } from "node:util";
import { afterAll, describe, expect, it } from "vitest";
import { ROOT } from "./server-process.ts";
import { useTestServer } from "./test-server.ts";

const run = promisify(execFile);
const server = useTestServer();
const dir = mkdtempSync(path.join(os.tmpdir(), "tributary-readme-"));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

/** The fenced code blocks of one language in the README section `heading`. */
function codeBlocks(heading: string, lang: string): string[] {
  const readme = readFileSync(path.join(ROOT, "README.md"), "utf8");
  const start = readme.indexOf(`\n## ${heading}\n`);
  expect(start, `README has no section '${heading}'`).toBeGreaterThan(0);
  const end = readme.indexOf("\n## ", start + 1);
  const section = readme.slice(start, end < 0 ? undefined : end);
  return [...section.matchAll(new RegExp("```" + lang + "\\n([\\s\\S]*?)```", "g"))].map((m) => m[1]);
}

async function get<T>(p: string): Promise<T> {
  const res = await fetch(server.url + p);
  expect(res.status, p).toBe(200);
  return (await res.json()) as T;
}

interface GroupView {
  state: string;
  totalLag: number;
  offsets: { topic: string; partition: number; committedOffset: number | null; highWatermark: number }[];
}

describe("README: Use it from code", () => {
  it("the TypeScript program produces, consumes in a group and commits a transaction", async () => {
    const [program] = codeBlocks("Use it from code", "ts");
    expect(program).toContain('from "./server/client/index.ts"');
    const file = path.join(dir, "example.ts");
    // an ES module, as it is in the repository root
    writeFileSync(path.join(dir, "package.json"), '{"type":"module"}');
    writeFileSync(file, program.replace('"./server/client/index.ts"', JSON.stringify(path.join(ROOT, "server/client/index.ts"))));
    const { stdout } = await run(process.execPath, ["--import", "tsx", file], {
      cwd: ROOT,
      env: { ...process.env, TRIBUTARY_URL: server.url },
      timeout: 60_000,
    });
    expect(stdout).toMatch(/order stored in partition \d at offset 0/);
    expect(stdout).toContain("billed 3 orders, invoiced 3 in transactions");
    for (const groupId of ["billing", "invoicer"]) {
      const g = await get<GroupView>(`/api/v1/groups/${groupId}`);
      expect(g.totalLag, groupId).toBe(0);
      const read = g.offsets.filter((o) => o.highWatermark > 0);
      expect(read.length, groupId).toBeGreaterThan(0);
      for (const o of read) expect(o.committedOffset, `${groupId} ${o.topic}/${o.partition}`).toBe(o.highWatermark);
    }
    // the invoices are committed: read_committed sees all three
    const ends = await get<{ partitions: { offset: number }[] }>("/api/v1/topics/invoices/offsets?at=latest&isolation=read_committed");
    let invoices = 0;
    for (const [partition, { offset }] of ends.partitions.entries()) {
      const r = await get<{ records: unknown[] }>(
        `/api/v1/topics/invoices/partitions/${partition}/records?offset=0&isolation=read_committed&maxRecords=100`,
      );
      if (offset > 0) invoices += r.records.length;
    }
    expect(invoices).toBe(3);
  });

  it("the curl session creates, produces, consumes in a group and commits a transaction", async () => {
    const [session] = codeBlocks("Use it from code", "sh");
    expect(session).toMatch(/^TRIBUTARY=http:\/\/localhost:3000$/m);
    const script = session.replace(/^TRIBUTARY=.*$/m, `TRIBUTARY=${server.url}`);
    const { stdout } = await run("bash", ["-euo", "pipefail", "-c", script], { cwd: dir, timeout: 60_000 });
    expect(stdout).toContain('"state": "Empty"');
    expect(stdout).toContain('"totalLag": 0');
    expect(stdout).toContain('"state": "CompleteCommit"');
    expect(stdout).toMatch(/^kafka_consumergroup_lag\{consumergroup="dashboards",topic="clicks",partition="\d"\} 0$/m);
    const g = await get<GroupView>("/api/v1/groups/dashboards");
    expect(g.offsets.map((o) => o.committedOffset).reduce((a, b) => (a ?? 0) + (b ?? 0), 0)).toBe(2);
  });
});
