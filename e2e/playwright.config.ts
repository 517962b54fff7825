/**
 * End-to-end tests of the web console in Debian's Chromium (/usr/bin/chromium; see
 * server/testing/install-chromium.mjs) against a real server on a fresh scratch database,
 * started by global-setup.ts. Run: npm run test:e2e.
 */
import { defineConfig } from "@playwright/test";
import { CHROMIUM_LAUNCH } from "../server/testing/chromium.ts";

// One port for the whole run: workers inherit the environment of the runner that picked it.
process.env.TRIBUTARY_E2E_PORT ??= String(41000 + (process.pid % 20000));
const port = Number(process.env.TRIBUTARY_E2E_PORT);

export default defineConfig({
  testDir: ".",
  testMatch: "**/*.spec.ts",
  globalSetup: "./support/global-setup.ts",
  outputDir: "../test-results/e2e-artifacts",
  // one server, two cores: tests run one at a time
  workers: 1,
  fullyParallel: false,
  timeout: 90_000,
  expect: { timeout: 10_000 },
  reporter: [["list"], ["./support/summary-reporter.ts"]],
  use: {
    baseURL: `http://127.0.0.1:${port}`,
    viewport: { width: 1280, height: 860 },
    screenshot: "only-on-failure",
    permissions: ["clipboard-read", "clipboard-write"],
    launchOptions: CHROMIUM_LAUNCH,
  },
  projects: [{ name: "chromium", use: { browserName: "chromium" } }],
});
