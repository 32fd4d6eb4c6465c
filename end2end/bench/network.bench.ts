import { writeFileSync } from "node:fs";
import { expect, test, apiAs, signInWithForm } from "../tests/fixtures";
import { MODES, RUNS, type Figures, afterClick, client, record } from "./net";

// The browser figures twice: on loopback, and on a plant's site VPN as Chromium emulates it
// (50 Mbit/s down, 10 Mbit/s up, 40 ms round trip), each with the bytes on the wire (the encoded
// sizes Chromium received, headers included): cold load, sign-in to the dashboard, FMEA 10,000
// rows, risk register. The training matrix's are in training.bench.ts (after 2,000 × 200
// training is added). Run by `cargo xtask bench`; BENCH_OUT gets `.network.json`.

// Functions, not strings: the app's Content-Security-Policy forbids evaluating a string.
const TILES_READY = () => {
  const t = [...document.querySelectorAll("article.tile[data-kpi]")];
  return t.length >= 8 && t.every((a) => a.querySelector("h2")) && !!document.querySelector('article[aria-label="Risk heatmap"] svg');
};
const ROWS_READY = () => !!document.querySelector('[data-testid="sheet-row"]');
const ALL_ROWS_READY = () => /\d+ High/.test(document.querySelector('[data-testid="sheet-counts"]')?.textContent ?? "");
const RISKS_READY = () => !!document.querySelector('table[aria-label="Risk register"] tbody tr');

test("base figures on loopback and on a throttled link", async ({ browser }) => {
  const api = await apiAs("priya.natarajan");
  const fmeas = (await (await api.get("/api/v1/fmeas")).json()).items as { id: number; fmea_number: string }[];
  const big = fmeas.find((f) => f.fmea_number.startsWith("PF-LARGE-"))!;
  await api.dispose();
  const figures: Figures = {};
  for (const mode of MODES) {
    // Cold load to a usable sign-in form, empty cache.
    let ms: number[] = [], bytes: number[] = [];
    for (let i = 0; i < RUNS; i++) {
      const c = await client(browser, mode);
      const t0 = Date.now();
      await c.page.goto("/");
      await expect(c.page.getByRole("button", { name: "Sign in" })).toBeEnabled();
      ms.push(Date.now() - t0);
      bytes.push(c.bytes());
      await c.close();
    }
    record(figures, "cold_load_sign_in", mode, ms, bytes);

    // Sign-in to the first screen: the executive's dashboard, every tile and the heatmap drawn.
    ms = []; bytes = [];
    for (let i = 0; i < RUNS; i++) {
      const c = await client(browser, mode);
      await c.page.goto("/");
      await expect(c.page.getByRole("button", { name: "Sign in" })).toBeEnabled();
      c.reset();
      const t0 = Date.now();
      await signInWithForm(c.page, "eva.lindqvist");
      await c.page.waitForFunction(TILES_READY, null, { polling: "raf", timeout: 60_000 });
      ms.push(Date.now() - t0);
      bytes.push(c.bytes());
      await c.close();
    }
    record(figures, "sign_in_to_dashboard", mode, ms, bytes);

    // The FMEA of 10,000 rows: the app already loaded (an earlier page of it), then the
    // worksheet's page opened: its first rows, then every row loaded.
    const first: number[] = [], all: number[] = [], sheetBytes: number[] = [];
    for (let i = 0; i < RUNS; i++) {
      const c = await client(browser, mode, "priya.natarajan");
      await c.page.goto("/fmea");
      await expect(c.page.getByRole("heading", { name: "FMEA worksheets" })).toBeVisible();
      c.reset();
      const t0 = Date.now();
      await c.page.goto(`/fmea/${big.id}`);
      await c.page.waitForFunction(ROWS_READY, null, { polling: "raf", timeout: 60_000 });
      first.push(Date.now() - t0);
      await c.page.waitForFunction(ALL_ROWS_READY, null, { polling: "raf", timeout: 120_000 });
      all.push(Date.now() - t0);
      sheetBytes.push(c.bytes());
      await c.close();
    }
    record(figures, "fmea_10k_first_rows", mode, first, sheetBytes);
    record(figures, "fmea_10k_all_rows", mode, all, sheetBytes);

    // The risk register's first page (10,000 risks), from My work by the menu.
    ms = []; bytes = [];
    for (let i = 0; i < RUNS; i++) {
      const c = await client(browser, mode, "priya.natarajan");
      await c.page.goto("/risks");
      await c.page.waitForFunction(RISKS_READY, null, { polling: "raf", timeout: 60_000 });
      await c.page.goto("/work");
      await expect(c.page.getByRole("heading", { level: 1 })).toBeVisible();
      await c.page.waitForTimeout(300);
      c.reset();
      const wait = afterClick(c.page, "risks");
      await c.page.getByRole("navigation", { name: "Areas" }).getByRole("link", { name: "Risks" }).click();
      ms.push(await wait);
      bytes.push(c.bytes());
      await c.close();
    }
    record(figures, "risk_register_first_page", mode, ms, bytes);
  }
  console.log(JSON.stringify(figures));
  if (process.env.BENCH_OUT) writeFileSync(`${process.env.BENCH_OUT}.network.json`, JSON.stringify(figures));
});
