import path from "node:path";
import { fileURLToPath } from "node:url";
import { defineConfig } from "vitest/config";

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), "../..");

export default defineConfig({
  root,
  test: {
    include: ["server/**/*.test.ts", "components/**/*.test.ts"],
    exclude: ["node_modules/**", ".next/**", "e2e/**"],
    globalSetup: ["server/testing/global-setup.ts"],
    reporters: ["default", "./server/testing/summary-reporter.ts"],
    testTimeout: 60_000,
    hookTimeout: 120_000,
    // Server and database tests start real processes; two cores cannot run many at once.
    fileParallelism: true,
    maxWorkers: 2,
    pool: "forks",
  },
});
