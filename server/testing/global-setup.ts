/**
 * Builds the Next.js app once before the tests, so server tests run the current code.
 * TRIBUTARY_TEST_SKIP_BUILD=1 skips it (when a fresh build is known to exist).
 */
import { spawnSync } from "node:child_process";
import path from "node:path";
import { fileURLToPath } from "node:url";

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), "../..");

export default async function setup(): Promise<void> {
  if (process.env.TRIBUTARY_TEST_SKIP_BUILD === "1") return;
  const nextBin = path.join(root, "node_modules", "next", "dist", "bin", "next");
  const r = spawnSync(process.execPath, [nextBin, "build"], {
    cwd: root,
    encoding: "utf8",
    env: { ...process.env, NODE_ENV: "production", NEXT_TELEMETRY_DISABLED: "1" },
  });
  if (r.status !== 0) throw new Error(`next build failed:\n${r.stdout}\n${r.stderr}`);
}
