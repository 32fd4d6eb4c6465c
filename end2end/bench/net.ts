// Shared by the bench files: a browser context on loopback or on an emulated site-VPN link
// (50 Mbit/s down, 10 Mbit/s up, 40 ms round trip), counting the bytes Chromium receives (the
// encoded sizes, headers included), and figures recorded as medians.
import type { Browser, Page } from "@playwright/test";
import { signInPage } from "../tests/fixtures";

export const THROTTLED = { offline: false, latency: 40, downloadThroughput: (50 * 1e6) / 8, uploadThroughput: (10 * 1e6) / 8 };
export const MODES = ["loopback", "throttled"] as const;
export type Mode = (typeof MODES)[number];
export const RUNS = 3;
export const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];
export type Figures = Record<string, number>;

/** A new context (empty cache) on the link `mode`, counting the bytes it receives. */
export async function client(browser: Browser, mode: Mode, user?: string) {
  const context = await browser.newContext();
  const page = await context.newPage();
  const cdp = await context.newCDPSession(page);
  await cdp.send("Network.enable");
  if (mode === "throttled") await cdp.send("Network.emulateNetworkConditions", THROTTLED);
  let bytes = 0;
  cdp.on("Network.loadingFinished", (e: { encodedDataLength: number }) => { bytes += e.encodedDataLength; });
  if (user) await signInPage(page, user);
  return { page, close: () => context.close(), bytes: () => bytes, reset: () => { bytes = 0; } };
}

/** Milliseconds from the next click in the page until `what` is on screen (timed inside the
 * page: timing from the test process would add Playwright's own round trips). */
export async function afterClick(page: Page, what: "risks" | "matrix"): Promise<number> {
  return page.evaluate(
    (what) =>
      new Promise<number>((resolve) => {
        const ready = {
          risks: () => location.pathname === "/risks" && !!document.querySelector('table[aria-label="Risk register"] tbody tr'),
          matrix: () => document.querySelectorAll('[data-testid="matrix"] .mc').length > 100,
        }[what];
        let clickedAt = 0;
        document.addEventListener("click", () => (clickedAt = performance.now()), { capture: true, once: true });
        const check = () => (clickedAt && ready() ? resolve(performance.now() - clickedAt) : requestAnimationFrame(check));
        requestAnimationFrame(check);
      }),
    what,
  );
}

/** The median time and bytes of a figure on a link. */
export function record(figures: Figures, name: string, mode: Mode, ms: number[], bytes: number[]) {
  figures[`net_${name}_${mode}_ms`] = Math.round(median(ms));
  figures[`net_${name}_${mode}_bytes`] = Math.round(median(bytes));
}
