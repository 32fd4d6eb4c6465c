import { defineConfig } from "@playwright/test";
import base from "./playwright.config";

// `cargo xtask bench` only: browser figures (not tests), written to BENCH_OUT as JSON.
export default defineConfig({ ...base, testDir: "./bench", testMatch: /.*\.bench\.ts/, timeout: 180_000 });
