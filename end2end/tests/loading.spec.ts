import { readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { expect, test, shot } from "./fixtures";

// How the app loads: the shell first, each area's code (its WebAssembly chunks) on first use,
// and what a user sees when a chunk cannot be fetched or a new build has been deployed.

/** The areas' code a page fetched (`area_<area>.bin`: each area's wasm files in one response). */
function areaChunks(page: import("@playwright/test").Page): string[] {
  const seen: string[] = [];
  page.on("request", (r) => {
    const file = r.url().split("/").pop() ?? "";
    if (file.startsWith("area_") && file.endsWith(".bin")) seen.push(file);
  });
  return seen;
}

test("a cold load of a deep link opens the worksheet and fetches only the worksheet's code", async ({ page }) => {
  const chunks = areaChunks(page);
  await page.goto("/fmea/1");
  await expect(page.getByRole("heading", { level: 1 })).toContainText("PFMEA");
  await expect(page.getByRole("grid")).toBeVisible();
  expect(chunks).toEqual(["area_fmea_worksheet.bin"]);
  await shot(page, "loading-01-deep-link");

  // Another area's code comes when the user goes there, not before: the register's first; a
  // risk's record soon after the register is shown (so that opening one finds it ready), once.
  await page.getByRole("navigation", { name: "Areas" }).getByRole("link", { name: "Risks" }).click();
  await expect(page.getByRole("heading", { name: "Risk register" })).toBeVisible();
  expect(chunks.slice(0, 2)).toEqual(["area_fmea_worksheet.bin", "area_risks.bin"]);
  await expect.poll(() => chunks.includes("area_risk_record.bin")).toBe(true);
  const first = page.locator('td a[href^="/risks/"]').first();
  const title = (await first.textContent()) ?? "";
  await first.click();
  await expect(page.getByRole("heading", { level: 1 })).toContainText(title);
  expect(chunks).toEqual(["area_fmea_worksheet.bin", "area_risks.bin", "area_risk_record.bin"]);
});

test("hovering a navigation link starts loading that area's code before the click", async ({ page }) => {
  const chunks = areaChunks(page);
  await page.goto("/fmea");
  await expect(page.getByRole("heading", { name: "FMEA worksheets" })).toBeVisible();
  expect(chunks).not.toContain("area_documents.bin");
  await page.getByRole("navigation", { name: "Areas" }).getByRole("link", { name: "Documents" }).hover();
  await expect.poll(() => chunks.includes("area_documents.bin")).toBe(true);
});

test("a chunk that fails to load shows a reload message and the rest of the app keeps working", async ({ page }) => {
  const failed: number[] = [];
  await page.route("**/area_risks.bin", (route) => {
    failed.push(failed.length);
    return route.fulfill({ status: failed.length === 1 ? 404 : 500, body: "gone" });
  });
  await page.goto("/fmea");
  await expect(page.getByRole("heading", { name: "FMEA worksheets" })).toBeVisible();
  const nav = page.getByRole("navigation", { name: "Areas" });
  await nav.getByRole("link", { name: "Risks" }).click();
  const alert = page.getByRole("alert");
  await expect(alert).toContainText("This page could not be loaded");
  await expect(alert.getByRole("button", { name: "Reload" })).toBeVisible();
  expect(failed.length).toBeGreaterThan(0);
  await shot(page, "loading-02-chunk-failed");

  // The module did not abort: other areas still open.
  await nav.getByRole("link", { name: "FMEA" }).click();
  await expect(page.getByRole("heading", { name: "FMEA worksheets" })).toBeVisible();
  await nav.getByRole("link", { name: "Risks" }).click();
  await expect(page.getByRole("alert")).toContainText("This page could not be loaded");

  // With the network back, Reload brings the page.
  await page.unroute("**/area_risks.bin");
  await page.getByRole("alert").getByRole("button", { name: "Reload" }).click();
  await expect(page.getByRole("heading", { name: "Risk register" })).toBeVisible();
});

test("a new build deployed while the app is open leads to a reload prompt on the next navigation", async ({ page }) => {
  const index = join(process.env.CALIPER_STATIC_DIR ?? "../app/dist", "index.html");
  const original = readFileSync(index, "utf8");
  const build = /name="caliper-build" content="([0-9a-f]{16})"/.exec(original)?.[1];
  expect(build, "index.html names its build").toBeTruthy();
  await page.goto("/fmea");
  await expect(page.getByRole("heading", { name: "FMEA worksheets" })).toBeVisible();
  const nav = page.getByRole("navigation", { name: "Areas" });
  // The first API answer after the deploy names the new build: the Dashboard's, or one the open
  // page makes meanwhile in the background (the unread count after a live event, say).
  const answered = page.waitForResponse((r) => r.url().includes("/api/v1/") && r.headers()["x-caliper-build"] === "0123456789abcdef");
  try {
    // The deploy: the server now serves another build's index.html (it looks again each second).
    writeFileSync(index, original.replace(`content="${build}"`, 'content="0123456789abcdef"'));
    await page.waitForTimeout(1_200);
    await nav.getByRole("link", { name: "Dashboard" }).click();
    await answered;
    // ...and the navigation after it asks to reload instead of loading a chunk of another build.
    await nav.getByRole("link", { name: "Risks" }).click();
    const alert = page.getByRole("alert");
    await expect(alert).toContainText("Caliper has been updated");
    await expect(alert.getByRole("button", { name: "Reload" })).toBeVisible();
    await shot(page, "loading-03-new-build");
  } finally {
    writeFileSync(index, original);
  }
  await page.waitForTimeout(1_200);
  await page.getByRole("alert").getByRole("button", { name: "Reload" }).click();
  await expect(page.getByRole("heading", { name: "Risk register" })).toBeVisible();
});

test("a part of a page comes with its first use, and one that cannot be fetched says so in place", async ({ page }) => {
  const chunks = areaChunks(page);
  let failing = true;
  await page.route("**/area_dashboard__customise.bin", (route) =>
    failing ? route.fulfill({ status: 500, body: "gone" }) : route.continue(),
  );
  await page.goto("/");
  await expect(page.getByRole("heading", { name: "Dashboard", level: 1 })).toBeVisible();
  await expect(page.locator("article.tile[data-kpi]").first()).toBeVisible();
  // The tile chooser is not part of the dashboard's code: it comes when it is first wanted.
  expect(chunks).toEqual(["area_dashboard.bin"]);

  const choose = page.getByRole("button", { name: "Choose tiles" });
  await choose.click();
  const alert = page.getByRole("alert").filter({ hasText: "This part of the page could not be loaded" });
  await expect(alert).toBeVisible();
  await expect(alert.getByRole("button", { name: "Reload" })).toBeVisible();
  expect(chunks).toContain("area_dashboard__customise.bin");
  // The page around it still works: its tiles are there and it still navigates.
  await expect(page.locator("article.tile[data-kpi]").first()).toBeVisible();
  await shot(page, "loading-04-part-failed");

  // A failed load is not kept: with the network back, opening the chooser again brings it.
  failing = false;
  await choose.click();
  await expect(alert).toHaveCount(0);
  await choose.click();
  await expect(page.getByRole("heading", { name: "Your tiles" })).toBeVisible();
  await expect(page.getByTestId("tile-choice").first()).toBeVisible();
});
