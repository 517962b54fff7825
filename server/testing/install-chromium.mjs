// Installs Debian's Chromium for the Playwright end-to-end tests when it is missing
// (`npx playwright install` downloads browser builds, which these machines cannot fetch).
// Plain JS so it runs before anything is compiled; needs root for apt-get.
import { execSync } from "node:child_process";
import { existsSync } from "node:fs";

const CHROMIUM = "/usr/bin/chromium";

if (existsSync(CHROMIUM)) {
  console.log(`install-chromium: ${CHROMIUM} is present`);
} else {
  console.log(`install-chromium: ${CHROMIUM} is missing; installing Debian's chromium package`);
  execSync("apt-get update && DEBIAN_FRONTEND=noninteractive apt-get install -y chromium", { stdio: "inherit", shell: "/bin/bash" });
  if (!existsSync(CHROMIUM)) {
    console.error(`install-chromium: apt-get finished but ${CHROMIUM} is still missing`);
    process.exit(1);
  }
}
