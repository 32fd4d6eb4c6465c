import { writeFileSync } from "node:fs";
import { expect, test, pageAs } from "../tests/fixtures";
import { MODES, RUNS, type Figures, afterClick, client, record } from "./net";

// Browser figures of the training matrix with the bench's 2,000 people × 200 requirements
// (caliper seed-training): navigation to the first screen of cells, and the work of each step
// while scrolling both ways. Run by `cargo xtask bench`, which reads BENCH_OUT (this file adds
// `.training.json`).

const pct = (xs: number[], p: number) => {
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.min(s.length - 1, Math.round((p / 100) * (s.length - 1)))];
};

test("training matrix figures", async ({ browser }) => {
  const page = await pageAs(browser, "priya.natarajan");
  await page.goto("/training");
  await expect(page.getByRole("heading", { name: "My training" })).toBeVisible();

  // Open: from the click on "Training matrix" (the area's code loaded once already) to the
  // first screen of cells drawn, five times.
  const opens: number[] = [];
  for (let i = 0; i < 5; i++) {
    await page.goto("/training");
    await page.getByRole("link", { name: "Training matrix" }).waitFor();
    const t0 = await page.evaluate(() => performance.now());
    await page.getByRole("link", { name: "Training matrix" }).click();
    await page.waitForFunction(() => document.querySelectorAll('[data-testid="matrix"] .mc').length > 100, null, { polling: "raf", timeout: 60_000 });
    opens.push((await page.evaluate(() => performance.now())) - t0);
  }
  const counts = await page.evaluate(() => ({
    rows: Number(document.querySelector('[data-testid="matrix"]')?.getAttribute("aria-rowcount")) - 1,
    cols: Number(document.querySelector('[data-testid="matrix"]')?.getAttribute("aria-colcount")) - 1,
    cells: document.querySelectorAll('[data-testid="matrix"] .mc').length,
  }));
  expect(counts.rows).toBeGreaterThanOrEqual(2000);
  expect(counts.cols).toBeGreaterThanOrEqual(200);

  // Scrolling: each step moves the grid by about three rows (or three columns), down and back
  // up, right and back left. The work of a step is timed inside the page: from the scroll to the
  // grid's cells updated and laid out (the scroll handler, the reactive update, style and
  // layout), which must fit in a 60 Hz frame with room for paint.
  const steps: number[] = await page.evaluate(async () => {
    const grid = document.querySelector('[data-testid="matrix"]') as HTMLElement;
    const frame = () => new Promise<void>((r) => requestAnimationFrame(() => r()));
    const out: number[] = [];
    const step = async (dx: number, dy: number) => {
      await frame();
      const t0 = performance.now();
      grid.scrollTop += dy;
      grid.scrollLeft += dx;
      grid.dispatchEvent(new Event("scroll"));
      // Let the reactive system's queued work run, then force style and layout.
      await Promise.resolve();
      await new Promise<void>((r) => queueMicrotask(r));
      void grid.querySelectorAll(".mc").length;
      void grid.getBoundingClientRect();
      void (grid.lastElementChild as HTMLElement).offsetHeight;
      out.push(performance.now() - t0);
    };
    for (let i = 0; i < 150; i++) await step(0, 96);
    for (let i = 0; i < 150; i++) await step(0, -96);
    for (let i = 0; i < 60; i++) await step(138, 0);
    for (let i = 0; i < 60; i++) await step(-138, 0);
    return out;
  });
  const figures = {
    training_matrix_open_first_cells_p50_ms: pct(opens, 50),
    training_matrix_open_first_cells_max_ms: Math.max(...opens),
    training_matrix_cells_in_page: counts.cells,
    training_matrix_scroll_step_p50_ms: pct(steps, 50),
    training_matrix_scroll_step_p99_ms: pct(steps, 99),
    training_matrix_scroll_step_max_ms: Math.max(...steps),
  };
  console.log(JSON.stringify(figures));
  await page.close();
  if (process.env.BENCH_OUT) writeFileSync(`${process.env.BENCH_OUT}.training.json`, JSON.stringify(figures));
});

test("training matrix on loopback and on a throttled link", async ({ browser }) => {
  const figures: Figures = {};
  for (const mode of MODES) {
    const ms: number[] = [], bytes: number[] = [];
    for (let i = 0; i < RUNS; i++) {
      const c = await client(browser, mode, "priya.natarajan");
      await c.page.goto("/training");
      await expect(c.page.getByRole("heading", { name: "My training" })).toBeVisible();
      await c.page.waitForTimeout(300);
      c.reset();
      const wait = afterClick(c.page, "matrix");
      await c.page.getByRole("link", { name: "Training matrix" }).click();
      ms.push(await wait);
      bytes.push(c.bytes());
      const rows = await c.page.getByRole("grid", { name: "Training matrix" }).getAttribute("aria-rowcount");
      expect(Number(rows)).toBeGreaterThan(2000);
      await c.close();
    }
    record(figures, "training_matrix_first_cells", mode, ms, bytes);
  }
  console.log(JSON.stringify(figures));
  if (process.env.BENCH_OUT) writeFileSync(`${process.env.BENCH_OUT}.network-training.json`, JSON.stringify(figures));
});
