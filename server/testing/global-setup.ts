/**
 * Builds the Next.js app once before the tests that start a real server, so they run the current
 * code. A run of only unit tests (`npm test -- server/broker/log`) skips the build (1–2 minutes).
 * TRIBUTARY_TEST_SKIP_BUILD=1 skips it too (when a fresh build is known to exist).
 */
import { spawnSync } from "node:child_process";
import { readFileSync } from "node:fs";
import path from "node:path";
import { fileURLToPath } from "node:url";
import type { TestProject } from "vitest/node";

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), "../..");

/** A test file that imports one of these starts a server from the build. */
const STARTS_SERVER = /(?:testing\/|\.\/)(?:test-server|server-process)(?:\.ts)?["']/;

/** True when a test file of this run starts a server (every file is read: they are small). */
export function startsServer(testFiles: string[]): boolean {
  return testFiles.some((file) => STARTS_SERVER.test(readFileSync(file, "utf8")));
}

export default async function setup(project: TestProject): Promise<void> {
  if (process.env.TRIBUTARY_TEST_SKIP_BUILD === "1") return;
  // the files this run selected (vitest's CLI filters; all of them without filters)
  const vitest = project.vitest as typeof project.vitest & { filenamePattern?: string[] };
  const specs = await vitest.getRelevantTestSpecifications(vitest.filenamePattern);
  if (!startsServer(specs.map((s) => s.moduleId))) return;
  const nextBin = path.join(root, "node_modules", "next", "dist", "bin", "next");
  const r = spawnSync(process.execPath, [nextBin, "build"], {
    cwd: root,
    encoding: "utf8",
    env: { ...process.env, NODE_ENV: "production", NEXT_TELEMETRY_DISABLED: "1" },
  });
  if (r.status !== 0) throw new Error(`next build failed:\n${r.stdout}\n${r.stderr}`);
}
