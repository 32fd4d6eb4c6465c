import { defineConfig } from "@playwright/test";

// Run by `cargo xtask test`, which starts the real server on a fresh SQLite database with the
// demo data and sets CALIPER_BASE_URL. Chromium is Debian's; Playwright never downloads one.
const baseURL = process.env.CALIPER_BASE_URL;
if (!baseURL) {
  throw new Error("CALIPER_BASE_URL is not set: run the suite with `cargo xtask test`.");
}

export default defineConfig({
  testDir: "./tests",
  timeout: 30_000,
  expect: { timeout: 10_000 },
  fullyParallel: false,
  workers: 1,
  retries: 0,
  reporter: [["list"]],
  outputDir: "./test-results",
  use: {
    baseURL,
    screenshot: "only-on-failure",
    trace: "off",
    launchOptions: {
      executablePath: process.env.CHROMIUM_PATH ?? "/usr/bin/chromium",
      // The machine's network is closed: keep Chromium from calling home at every start.
      args: [
        "--no-sandbox",
        "--disable-gpu",
        "--disable-dev-shm-usage",
        "--disable-background-networking",
        "--disable-component-update",
        "--disable-sync",
        "--disable-quic",
        "--no-first-run",
      ],
    },
  },
});
