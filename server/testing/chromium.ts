/**
 * How every browser test here launches Debian's Chromium (no browser can be downloaded on these
 * machines): without the background-networking flags its connections are refused by the closed
 * network, many at a time.
 */
export const CHROMIUM_LAUNCH = {
  executablePath: process.env.TRIBUTARY_CHROMIUM ?? "/usr/bin/chromium",
  args: [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
  ],
};
