import { expect, test, apiAs, pageAs, shot, userId, DEMO, DEMO_PASSWORD } from "./fixtures";
import type { Locator, Page } from "@playwright/test";

// Keyboard only (WCAG 2.1.1, 2.4.3, 2.4.7) and reflow (1.4.10): no mouse in these journeys; every
// step is a key press, the focus is always visible, and it is not lost when the page updates.

/** Presses Tab until `target` has the focus (fails after `max` presses). */
async function tabTo(page: Page, target: Locator, max = 80) {
  for (let i = 0; i < max; i++) {
    if (await target.evaluate((el) => el === document.activeElement).catch(() => false)) return;
    await page.keyboard.press("Tab");
  }
  throw new Error(`Tab never reached ${target}`);
}

/** The focused element shows a focus indicator (an outline or a box shadow). */
async function expectVisibleFocus(page: Page) {
  const shown = await page.evaluate(() => {
    const el = document.activeElement as HTMLElement | null;
    if (!el || el === document.body) return "nothing focused";
    const s = getComputedStyle(el);
    // An SVG control (a heatmap cell) shows its focus as a thick stroke on its outline shape.
    const outline = el.querySelector(".heat-outline");
    const stroke = outline ? parseFloat(getComputedStyle(outline).strokeWidth) >= 3 : false;
    const ring = (s.outlineStyle !== "none" && parseFloat(s.outlineWidth) > 0) || s.boxShadow !== "none" || stroke;
    return ring ? "" : `no focus indicator on ${el.tagName.toLowerCase()}${el.id ? "#" + el.id : ""}`;
  });
  expect(shown).toBe("");
}

test("by keyboard alone: sign in, move through the navigation, and sign a record with the password", async ({ browser, request }) => {
  // A record waiting for the quality manager's signature: a new process's owner assignment.
  const { items } = await (await request.get("/api/v1/departments")).json();
  const me = (await (await request.get("/api/v1/session")).json()).user.id;
  const created = await request.post("/api/v1/processes", {
    data: { name: `Deburring ${Date.now()}`, owner_id: me, department_id: items[0].id },
  });
  expect(created.status()).toBe(201);
  const processId = (await created.json()).id;

  const page = await (await browser.newContext()).newPage();
  await page.goto("/");
  await tabTo(page, page.getByLabel("Username"));
  await expectVisibleFocus(page);
  await page.keyboard.type(DEMO.qualityManager.username);
  await tabTo(page, page.getByLabel("Password", { exact: true }));
  await page.keyboard.type(DEMO_PASSWORD);
  await page.keyboard.press("Enter");
  await expect(page.getByRole("navigation", { name: "Areas" })).toBeVisible();

  // Through the navigation to Documents, the focus ring always on what has the focus.
  const documents = page.getByRole("navigation", { name: "Areas" }).getByRole("link", { name: "Documents" });
  await tabTo(page, documents);
  await expectVisibleFocus(page);
  await page.keyboard.press("Enter");
  await expect(page.locator("main h1")).toHaveText("Documents");

  // Sign the process owner's assignment: Tab to "Sign…", Enter; the dialog takes the focus.
  await page.goto(`/admin/processes/${processId}`);
  const sign = page.getByRole("button", { name: "Sign…" }).first();
  await expect(sign).toBeVisible();
  await tabTo(page, sign);
  await expectVisibleFocus(page);
  await page.keyboard.press("Enter");
  const dialog = page.getByRole("dialog");
  // The session's first signature: the username, then the password.
  await expect(dialog.getByLabel("Username")).toBeFocused();
  await page.keyboard.type(DEMO.qualityManager.username);
  await page.keyboard.press("Tab");
  await expect(dialog.getByLabel("Password")).toBeFocused();
  await page.keyboard.type(DEMO_PASSWORD);
  const agreement = dialog.getByLabel("I accept the electronic-signature agreement");
  if (await agreement.count()) {
    await tabTo(page, agreement);
    await page.keyboard.press("Space");
    await tabTo(page, dialog.getByRole("button", { name: "Sign", exact: true }));
    await page.keyboard.press("Enter");
  } else {
    await page.keyboard.press("Enter");
  }
  await expect(dialog).toHaveCount(0);
  await expect(page.locator(".signature").first()).toContainText(DEMO.qualityManager.name);
  // Escape closes a dialog too, and the focus is still on the page afterwards.
  await page.context().close();
});

test("by keyboard alone: move through the FMEA worksheet, edit a rating and save it", async ({ browser }) => {
  const qm = await apiAs(DEMO.qualityManager.username);
  const fmea = ((await (await qm.get("/api/v1/fmeas")).json()).items as { id: number; fmea_number: string }[])
    .find((f) => f.fmea_number === "PF-GB200")!;
  const rows = async () => (await (await qm.get(`/api/v1/fmeas/${fmea.id}/worksheet`)).json()).rows as { occurrence: number | null }[];
  const before = (await rows())[0].occurrence;
  const next = before === 3 ? 4 : 3;

  const page = await pageAs(browser, DEMO.qualityManager.username);
  await page.goto(`/fmea/${fmea.id}`);
  await expect(page.getByTestId("sheet-counts")).toContainText("failure chains");
  const sheet = page.locator(".sheet");
  await tabTo(page, sheet, 200);
  await expectVisibleFocus(page);
  // To the first row's occurrence rating with the arrow keys.
  await page.keyboard.press("Control+Home");
  const active = page.locator(".cell.active");
  for (let i = 0; i < 40 && (await active.getAttribute("data-col")) !== "occurrence"; i++) {
    await page.keyboard.press("ArrowRight");
  }
  await expect(active).toHaveAttribute("data-col", "occurrence");
  await page.keyboard.press("Enter");
  await expect(page.locator(".cell.editing")).toHaveCount(1);
  await page.keyboard.press("Control+A");
  await page.keyboard.type(String(next));
  await page.keyboard.press("Enter");
  await expect.poll(async () => (await rows())[0].occurrence).toBe(next);
  // The focus is back on the grid, ready for the next key.
  expect(await page.evaluate(() => document.activeElement?.classList.contains("sheet"))).toBe(true);
  await qm.dispose();
  await page.context().close();
});

test("the focus stays on a heatmap cell while a live update redraws the counts", async ({ browser }) => {
  const page = await pageAs(browser, DEMO.qualityManager.username);
  await page.goto("/risks");
  const cell = page.locator(".heat-cell").first();
  await expect(cell).toBeVisible();
  await tabTo(page, cell, 200);
  await expectVisibleFocus(page);
  const id = await cell.getAttribute("id");

  // Someone else raises a risk: the heatmap's counts reload live.
  const other = await apiAs(DEMO.qualityManager.username);
  const before = await page.locator("[data-testid=risk-count]").innerText();
  const map = await (await other.get("/api/v1/risks/heatmap")).json();
  const processes = (await (await other.get("/api/v1/processes")).json()).items;
  const res = await other.post("/api/v1/risks", {
    data: {
      title: `Live focus ${Date.now()}`, category: "Process", process_id: processes[0].id,
      owner_id: await userId(other, DEMO.processOwner.name), review_date: "2027-06-30",
      matrix_revision_id: map.revision.id, status: "treated",
      inherent_likelihood: 2, inherent_severity: 2, residual_likelihood: 1, residual_severity: 1,
    },
  });
  expect(res.status(), await res.text()).toBe(201);
  await expect(page.locator("[data-testid=risk-count]")).not.toHaveText(before);
  expect(await page.evaluate(() => document.activeElement?.id)).toBe(id);
  await other.dispose();
  await page.context().close();
});

test("pages reflow to 320 CSS px without horizontal scrolling outside their tables and grids", async ({ browser }) => {
  const context = await browser.newContext({ viewport: { width: 320, height: 800 } });
  const page = await context.newPage();
  const res = await page.request.post("/api/v1/session", { data: { username: DEMO.qualityManager.username, password: DEMO_PASSWORD } });
  expect(res.status()).toBe(200);
  const doc = (await (await page.request.get("/api/v1/documents")).json()).items[0].id;
  const found: string[] = [];
  for (const url of ["/", "/work", "/inbox", "/documents", `/documents/${doc}`, "/training", "/quality/ncs", "/risks", "/fmea", "/admin"]) {
    await page.goto(url);
    await expect(page.locator("main h1").first()).toBeVisible();
    await expect(page.getByText("Loading…")).toHaveCount(0);
    // Two-dimensional content (tables, the grids, the heatmap) may scroll inside itself.
    const wide = await page.evaluate(() => {
      const limit = window.innerWidth + 1;
      return [...document.querySelectorAll("body *")]
        .filter((el) => !el.closest("table, svg, pre, .sheet, .matrix-scroll, [role=grid], .diff"))
        .filter((el) => el.getBoundingClientRect().right > limit && getComputedStyle(el).visibility !== "hidden")
        .slice(0, 3)
        .map((el) => `${el.tagName.toLowerCase()}${el.className ? "." + String(el.className).split(" ")[0] : ""} (${Math.round(el.getBoundingClientRect().right)} px)`);
    });
    found.push(...wide.map((w) => `${url}: ${w}`));
    if (url.startsWith("/documents/")) await shot(page, "reflow-320-document");
  }
  expect(found, "elements wider than 320 px outside tables and grids").toEqual([]);
  await context.close();
});
