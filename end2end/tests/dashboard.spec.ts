import { expect, test, apiAs, pageAs, shot, DEMO } from "./fixtures";

function thisMonth(): string {
  const d = new Date();
  return `${d.getUTCFullYear()}-${String(d.getUTCMonth() + 1).padStart(2, "0")}`;
}

test("the executive lands on the dashboard; a measurement elsewhere moves its tile live; overdue work drills down to its records", async ({ browser }) => {
  const exec = await pageAs(browser, DEMO.executive.username);
  await exec.goto("/");
  await expect(exec.getByRole("heading", { level: 1 })).toHaveText("Dashboard");
  const defect = exec.locator('[data-kpi="defect_rate"]');
  await expect(defect.getByTestId("tile-value")).toContainText("%");
  await expect(exec.locator('[data-kpi="audit_findings"]')).toContainText("Comes with the audits module.");
  // The CAPA tile is computed from the CAPAs closed in the demo history.
  await expect(exec.locator('[data-kpi="capa_closure_time"]').getByTestId("tile-value")).toContainText("days");
  await shot(exec, "dashboard");

  // The quality manager records this month's production in the measurements form and the
  // rejects through the API: the executive's defect-rate tile shows them of 1,000 for this
  // month without a reload (a few rejects: the number is new on every run).
  const month = thisMonth();
  const qm = await pageAs(browser, DEMO.qualityManager.username);
  await qm.goto("/dashboard/measurements");
  await qm.getByText("Record a value").click();
  await qm.getByLabel("Series").first().selectOption("units_produced");
  await qm.getByLabel("Month").fill(month);
  await qm.getByLabel("Value").fill("1000");
  await qm.getByLabel("Source").fill("MES shift report");
  await qm.getByRole("button", { name: "Save" }).click();
  await expect(qm.getByRole("status").filter({ hasText: /Saved|Unchanged/ })).toBeVisible();
  const api = await apiAs(DEMO.qualityManager.username);
  const rejected = 1 + Math.floor(Math.random() * 9);
  const r = await api.post("/api/v1/measurements", { data: { series: "units_rejected", period: month, value: rejected, source: "MES shift report" } });
  expect(r.status(), await r.text()).toBe(200);
  await expect(defect.getByTestId("tile-value")).toHaveText(`${(rejected / 10).toFixed(2)} %`);
  await expect(defect).toContainText("On target");

  // Overdue work: the tile's number is the number of records behind it.
  const overdue = exec.locator('[data-kpi="overdue_work"]');
  const count = Number(await overdue.getByTestId("tile-value").innerText());
  expect(count).toBeGreaterThan(0);
  await overdue.getByRole("link", { name: "The records behind it" }).click();
  await expect(exec.getByRole("heading", { level: 1 })).toHaveText("Overdue work");
  await expect(exec.getByTestId("overdue-row")).toHaveCount(count);
  await shot(exec, "dashboard-overdue");
  await exec.close();
  await qm.close();
  await api.dispose();
});

test("a target change moves the trend's target line from its month on; a CSV with two bad rows names both and imports nothing", async ({ browser }) => {
  const qm = await pageAs(browser, DEMO.qualityManager.username);
  await qm.goto("/");
  const copq = qm.locator('[data-kpi="copq"]');
  const targets = copq.locator("table.sr-only tbody tr td:nth-child(3)");
  await expect(targets).toHaveCount(12);
  const lastMonth = await targets.nth(10).innerText();
  const target = (5.5 + Math.floor(Math.random() * 10) / 10).toFixed(2);

  await qm.goto("/dashboard/measurements");
  await qm.getByText("Change a target").click();
  await qm.getByLabel("KPI").selectOption("copq");
  await qm.getByLabel("From").fill(thisMonth());
  await qm.getByLabel("Target", { exact: true }).fill(target);
  await qm.getByLabel("At-risk limit").fill("8");
  await qm.getByRole("button", { name: "Set target" }).click();
  await expect(qm.getByRole("status").filter({ hasText: "Saved." })).toBeVisible();
  await qm.goto("/");
  await expect(targets.last()).toHaveText(`${target} %`);
  await expect(targets.nth(10)).toHaveText(lastMonth);

  // The CSV: rows 3 and 4 are wrong; nothing is imported, both are named.
  await qm.goto("/dashboard/measurements");
  await qm.getByText("Import a CSV").click();
  const csv = `series,period,value,source\nrevenue,${thisMonth()},1000,Finance\nwidgets,${thisMonth()},1,Finance\nscrap_cost,${thisMonth()},lots,Finance\n`;
  await qm.getByLabel("CSV file").setInputFiles({ name: "bad.csv", mimeType: "text/csv", buffer: Buffer.from(csv) });
  const problems = qm.getByTestId("import-problems");
  await expect(problems).toContainText("2 problem(s) in the file; nothing was imported.");
  await expect(problems).toContainText("Line 3, column series");
  await expect(problems).toContainText("Line 4, column value");
  await shot(qm, "dashboard-import-problems");
  const revenue = await qm.request.get(`/api/v1/measurements?series=revenue&from=${thisMonth()}`);
  expect((await revenue.json()).items, "the good row was not imported either").toEqual([]);
  await qm.close();
});
