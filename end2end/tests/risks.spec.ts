import { expect, test, apiAs, pageAs, shot, DEMO, userId } from "./fixtures";
import type { APIRequestContext, Page } from "@playwright/test";

type Cell = { likelihood: number; severity: number; inherent: number; residual: number };

async function heatmap(request: APIRequestContext) {
  const res = await request.get("/api/v1/risks/heatmap");
  expect(res.ok()).toBeTruthy();
  return (await res.json()) as { revision: { id: number; definition: { likelihood: unknown[] } }; cells: Cell[]; total: number };
}

/** The count text shown in a heatmap cell. */
const cellCount = (page: Page, l: number, s: number) => page.locator(`#heat-${l}-${s} [data-testid="heat-count"]`);

/** A new risk scored on the default matrix, owned by Tom Okafor, through the API. */
async function createRisk(request: APIRequestContext, title: string, inherent: [number, number], residual: [number, number]) {
  const map = await heatmap(request);
  const processes = (await (await request.get("/api/v1/processes")).json()).items;
  const process = processes.find((p: { name: string }) => p.name === "CNC machining");
  const res = await request.post("/api/v1/risks", {
    data: {
      title, category: "Process", process_id: process.id, owner_id: await userId(request, DEMO.processOwner.name),
      review_date: "2027-06-30", matrix_revision_id: map.revision.id, status: "treated",
      inherent_likelihood: inherent[0], inherent_severity: inherent[1],
      residual_likelihood: residual[0], residual_severity: residual[1],
    },
  });
  expect(res.status(), await res.text()).toBe(201);
  return res.json();
}

test("the heatmap filters the register from the keyboard and switches inherent / residual", async ({ browser }) => {
  const qm = await apiAs(DEMO.qualityManager.username);
  const map = await heatmap(qm);
  // A cell holding residual risks, and one whose counts differ before and after controls.
  const target = map.cells.find((c) => c.residual > 0 && c.likelihood > 1)!;
  const differs = map.cells.find((c) => c.inherent !== c.residual)!;
  const rows = map.revision.definition.likelihood.length;

  const page = await pageAs(browser, DEMO.executive.username);
  await page.goto("/risks");
  await expect(page.getByRole("heading", { name: "Risk register" })).toBeVisible();
  await expect(cellCount(page, differs.likelihood, differs.severity)).toHaveText(String(differs.residual));
  await shot(page, "risks-register");

  // Inherent: the same cell shows the count before controls.
  await page.getByRole("radio", { name: "Inherent", exact: true }).click();
  await expect(cellCount(page, differs.likelihood, differs.severity)).toHaveText(String(differs.inherent));
  await page.getByRole("radio", { name: "Inherent → residual" }).click();
  await expect(cellCount(page, differs.likelihood, differs.severity)).toHaveText(`${differs.inherent} → ${differs.residual}`);
  await shot(page, "risks-heatmap-moves");
  await page.locator(".heat-panel").screenshot({ path: "screenshots/risks-heatmap-panel.png" });
  await page.getByRole("radio", { name: "Residual", exact: true }).click();

  // Keyboard only: focus the grid's one tab stop, walk to the target with the arrow keys, Enter.
  const start = page.locator(`#heat-${rows}-1`);
  await start.focus();
  await expect(start).toBeFocused();
  for (let l = rows; l > target.likelihood; l--) await page.keyboard.press("ArrowDown");
  for (let s = 1; s < target.severity; s++) await page.keyboard.press("ArrowRight");
  const cell = page.locator(`#heat-${target.likelihood}-${target.severity}`);
  await expect(cell).toBeFocused();
  await expect(cell).toHaveAttribute("aria-label", new RegExp(`^${target.residual} (Acceptable|Reduce \\(ALARP\\)|Unacceptable): likelihood ${target.likelihood}, severity ${target.severity}: ${target.residual} risks?, (acceptable|reduce as far as possible|unacceptable)$`));
  await page.keyboard.press("Enter");
  await expect(cell).toHaveAttribute("aria-pressed", "true");
  await expect(page.getByTestId("risk-count")).toHaveText(`1–${target.residual} of ${target.residual} risk(s)`);
  await expect(page.getByTestId("risk-row")).toHaveCount(target.residual);
  const score = String(target.likelihood * target.severity);
  for (const badge of await page.getByTestId("risk-row").locator("td:nth-child(7)").allTextContents()) {
    expect(badge.startsWith(`${score} ·`), badge).toBeTruthy();
  }
  await shot(page, "risks-cell-filter");
  // Enter again clears the filter.
  await page.keyboard.press("Enter");
  const all = (await (await qm.get("/api/v1/risks")).json()).total;
  await expect(page.getByTestId("risk-count")).toContainText(`of ${all} risk(s)`);
});

test("accepting an unacceptable residual needs a signed rationale", async ({ browser }) => {
  const qm = await apiAs(DEMO.qualityManager.username);
  const risk = await createRisk(qm, "E2E: guard removed for setting", [5, 5], [4, 4]);
  expect(risk.residual.zone).toBe("unacceptable");

  const page = await pageAs(browser, DEMO.qualityManager.username);
  await page.goto(`/risks/${risk.id}`);
  await expect(page.getByTestId("residual-rating")).toHaveText("16 · Unacceptable");
  const panel = page.locator("section.approval");
  await expect(panel.getByTestId("signature-status")).toHaveText("Not accepted");
  await panel.getByRole("button", { name: "Sign…" }).click();
  const dialog = page.getByRole("dialog");
  const agreement = dialog.getByLabel("I accept the electronic-signature agreement");
  if (await agreement.count()) await agreement.check();
  await dialog.getByLabel("Username").fill(DEMO.qualityManager.username);
  await dialog.getByLabel("Password").fill("Caliper-Demo-2026");
  await dialog.getByRole("button", { name: "Sign" }).click();
  await expect(dialog.locator('[data-field="rationale"]')).toHaveText(
    "A residual risk outside the acceptable zone can be accepted only with a benefit–risk rationale.",
  );
  await shot(page, "risk-accept-refused");
  // Nothing was accepted.
  expect((await (await qm.get(`/api/v1/risks/${risk.id}`)).json()).status).toBe("treated");

  await dialog.getByLabel("Benefit–risk rationale").fill("Setting needs access; interlocked slow mode reduces exposure.");
  await dialog.getByLabel("Password").fill("Caliper-Demo-2026");
  await dialog.getByRole("button", { name: "Sign" }).click();
  await expect(dialog).toHaveCount(0);
  await expect(panel.locator(".signature").first()).toContainText(DEMO.qualityManager.name);
  await expect(page.getByTestId("acceptance-rationale")).toHaveText("Setting needs access; interlocked slow mode reduces exposure.");
  await expect(page.locator(".meta").first()).toContainText("Accepted");
  await shot(page, "risk-accepted");
});

test("a control cites a failure chain of the process's FMEAs, the highest Action Priority first", async ({ browser }) => {
  const page = await pageAs(browser, DEMO.qualityManager.username);
  const qm = await apiAs(DEMO.qualityManager.username);
  const fmeas = (await (await qm.get("/api/v1/fmeas")).json()).items as { process_id: number; fmea_number: string }[];
  const fmea = fmeas[0];
  await page.goto("/risks/new");
  await page.getByLabel("Process").selectOption(String(fmea.process_id));
  await page.getByRole("button", { name: "Add control" }).click();
  const chains = page.locator('optgroup[label="FMEA failure chains of this process"] option');
  await expect(chains.first()).toHaveText(new RegExp(`^FMEA ${fmea.fmea_number} row \\d+ \\([HML]\\): .+`));
  // High before Medium before Low.
  const letters = (await chains.allTextContents()).map((t) => t.match(/\((H|M|L)\)/)?.[1]);
  expect(letters.length).toBeGreaterThan(0);
  expect(letters.join("")).toMatch(/^H*M*L*$/);
});

test("the risk form rates as you choose and names bad fields", async ({ browser }) => {
  const page = await pageAs(browser, DEMO.processOwner.username);
  await page.goto("/risks/new");
  await page.getByLabel("Likelihood").first().selectOption("5");
  await page.getByLabel("Severity").first().selectOption("4");
  await expect(page.getByTestId("inherent-rating")).toHaveText("20 · Unacceptable");
  await page.getByLabel("Likelihood").nth(1).selectOption("2");
  await page.getByLabel("Severity").nth(1).selectOption("2");
  await expect(page.getByTestId("residual-rating")).toHaveText("4 · Acceptable");
  await page.getByRole("button", { name: "Save" }).click();
  await expect(page.getByRole("alert").filter({ hasText: "Not saved" })).toBeVisible();
  await expect(page.locator('[data-field="title"]')).toHaveText("This field is required.");
  await expect(page.locator('[data-field="process_id"]')).toHaveText("This field is required.");
  await shot(page, "risk-form-errors");
  await page.getByLabel("Title").fill("E2E: chip wraps around the drill");
  await page.locator("#field-category").fill("Process");
  await page.locator("#field-process_id").selectOption({ label: "CNC machining" });
  await page.getByLabel("Next review").fill("2027-03-31");
  await page.getByRole("button", { name: "Save" }).click();
  await expect(page).toHaveURL(/\/risks\/\d+$/);
  await expect(page.getByRole("heading", { level: 1 })).toContainText("E2E: chip wraps around the drill");
});

test("the heatmap updates live when someone else changes a risk", async ({ browser }) => {
  const page = await pageAs(browser, DEMO.executive.username);
  await page.goto("/risks");
  const qm = await apiAs(DEMO.qualityManager.username);
  const before = (await heatmap(qm)).cells.find((c) => c.likelihood === 1 && c.severity === 5)!;
  await expect(cellCount(page, 1, 5)).toHaveText(String(before.residual));
  const beforeUp = (await heatmap(qm)).cells.find((c) => c.likelihood === 2 && c.severity === 5)!;
  const risk = await createRisk(qm, "E2E: live heatmap", [3, 5], [1, 5]);
  await expect(cellCount(page, 1, 5)).toHaveText(String(before.residual + 1));

  // A second person changes the risk in their own page: the first page's heatmap follows.
  const other = await pageAs(browser, DEMO.qualityManager.username);
  await other.goto(`/risks/${risk.id}`);
  await other.getByLabel("Likelihood").nth(1).selectOption("2");
  await other.getByLabel("Reason for change").fill("Field data: more frequent than assessed");
  await other.getByRole("button", { name: "Save" }).click();
  await expect(other.getByText("Saved.")).toBeVisible();
  await expect(cellCount(page, 1, 5)).toHaveText(String(before.residual));
  await expect(cellCount(page, 2, 5)).toHaveText(String(beforeUp.residual + 1));
});

test("a matrix change is a new revision that takes effect when approved", async ({ browser }) => {
  const page = await pageAs(browser, DEMO.qualityManager.username);
  await page.goto("/risks/matrices");
  await page.getByRole("link", { name: "Medical device 5×4" }).first().click();
  await expect(page.getByRole("heading", { level: 1 })).toContainText("Medical device 5×4 rev. 1");
  await expect(page.getByRole("heading", { level: 1 })).toContainText("Effective");
  await page.getByRole("button", { name: "Start a new revision" }).click();
  await expect(page.getByRole("heading", { level: 1 })).toContainText("rev. 2");
  await expect(page.getByRole("heading", { level: 1 })).toContainText("Draft");
  // Make "improbable × critical" unacceptable: click the cell, describe the change, save.
  await page.getByRole("button", { name: "likelihood 1, severity 4: acceptable" }).click();
  await expect(page.getByRole("button", { name: "likelihood 1, severity 4: unacceptable" })).toBeVisible();
  await page.getByLabel("Change note").fill("Any critical harm is unacceptable, however improbable.");
  await page.getByRole("button", { name: "Save draft" }).click();
  await expect(page.getByRole("status").filter({ hasText: "Saved." })).toBeVisible();
  await shot(page, "risk-matrix-draft");
  // Approve it by signature: it becomes the effective revision and is frozen.
  await page.locator("section.approval").getByRole("button", { name: "Sign…" }).click();
  const dialog = page.getByRole("dialog");
  const agreement = dialog.getByLabel("I accept the electronic-signature agreement");
  if (await agreement.count()) await agreement.check();
  await dialog.getByLabel("Username").fill(DEMO.qualityManager.username);
  await dialog.getByLabel("Password").fill("Caliper-Demo-2026");
  await dialog.getByRole("button", { name: "Sign" }).click();
  await expect(page.getByRole("heading", { level: 1 })).toContainText("Effective");
  await expect(page.getByRole("button", { name: "Save draft" })).toBeHidden();
  // Its risks keep revision 1 until re-scored: the heatmap of revision 2 says so.
  await page.goto("/risks");
  await page.getByLabel("Heatmap matrix").selectOption({ label: "Medical device 5×4 rev. 2" });
  await expect(page.locator(".heat-caption")).toContainText("still scored on rev. 1");
  await shot(page, "risk-heatmap-new-revision");
});

test("the register pages forwards and back by cursor, and a new sort starts again at the first page", async ({ browser }) => {
  const qm = await apiAs(DEMO.qualityManager.username);
  const total = (await (await qm.get("/api/v1/risks")).json()).total;
  expect(total, "the demo register holds more than one page").toBeGreaterThan(50);
  const page = await pageAs(browser, DEMO.executive.username);
  await page.goto("/risks");
  await page.getByRole("button", { name: /^Ref\./ }).click();
  await expect(page.locator('th[aria-sort="ascending"]')).toContainText("Ref.");
  const count = page.getByTestId("risk-count");
  await expect(count).toHaveText(/^1–50 of \d+ risk\(s\)$/);
  const refs = () => page.getByTestId("risk-row").locator("td:first-child").allTextContents();
  // The rows follow the header and the count once the sorted page has arrived (the previous
  // rows stay on screen while it loads): wait for them, then compare.
  await expect
    .poll(async () => {
      const r = await refs();
      return r.length === 50 && [...r].sort().join() === r.join();
    }, { message: "the first page, sorted by reference" })
    .toBe(true);
  const first = await refs();

  await page.getByRole("button", { name: "Next" }).click();
  await expect(count).toHaveText(/^51–\d+ of \d+ risk\(s\)$/);
  await expect
    .poll(async () => (await refs()).filter((r) => first.includes(r)), { message: "no row on both pages" })
    .toEqual([]);
  const second = await refs();
  expect(second.length).toBeGreaterThan(0);
  expect([...second].sort(), "the second page continues the order").toEqual(second);
  expect(second[0] > first[first.length - 1], "after the first page's last row").toBeTruthy();
  await shot(page, "risks-register-page-2");

  await page.getByRole("button", { name: "Previous" }).click();
  await expect(count).toHaveText(/^1–50 of \d+ risk\(s\)$/);
  await expect.poll(refs, { message: "back on the first page" }).toEqual(first);

  await page.getByRole("button", { name: "Next" }).click();
  await expect(count).toHaveText(/^51–/);
  await page.getByRole("button", { name: /^Title/ }).click();
  await expect(count).toHaveText(/^1–50 of \d+ risk\(s\)$/);
  await page.close();
});
