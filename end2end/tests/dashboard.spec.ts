import { expect, test, apiAs, pageAs, shot, userId, DEMO } from "./fixtures";

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
  // month without a reload (a few rejects: the number is new on every run, and at most 7 so
  // that the demo's defect-rate objective, at or under 0.8 %, stays achieved for the objectives
  // journey below).
  const month = thisMonth();
  const qm = await pageAs(browser, DEMO.qualityManager.username);
  await qm.goto("/dashboard/measurements");
  await qm.getByText("Record a value").click();
  await qm.getByLabel("Series").first().selectOption("units_produced");
  await qm.getByLabel("Month", { exact: true }).fill(month);
  await qm.getByLabel("Value").fill("1000");
  await qm.getByLabel("Source").fill("MES shift report");
  await qm.getByRole("button", { name: "Save" }).click();
  await expect(qm.getByRole("status").filter({ hasText: /Saved|Unchanged/ })).toBeVisible();
  const api = await apiAs(DEMO.qualityManager.username);
  const rejected = 1 + Math.floor(Math.random() * 7);
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

test("a target change moves the trend's target line from its month on; a KPI judged per quarter draws 12 quarters; a CSV with two bad rows names both and imports nothing", async ({ browser }) => {
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

  // CAPA closure time judged per quarter from this month on: its trend is 12 quarters.
  await qm.goto("/dashboard/measurements");
  await qm.getByText("Change a target").click();
  await qm.getByLabel("KPI").selectOption("capa_closure_time");
  await qm.getByLabel("From").fill(thisMonth());
  await qm.getByLabel("Judged").selectOption("quarter");
  await qm.getByLabel("Target", { exact: true }).fill("30");
  await qm.getByLabel("At-risk limit").fill("45");
  await qm.getByRole("button", { name: "Set target" }).click();
  await expect(qm.getByRole("status").filter({ hasText: "Saved." })).toBeVisible();
  await qm.goto("/");
  const capa = qm.locator('[data-kpi="capa_closure_time"]');
  await expect(capa.locator("table.sr-only caption")).toHaveText("The last 12 quarters");
  const periods = capa.locator("table.sr-only tbody tr td:nth-child(1)");
  await expect(periods).toHaveCount(12);
  await expect(periods.last()).toHaveText(/^Q[1-4] \d{4}$/);
  await expect(capa.locator("table.sr-only tbody tr td:nth-child(3)").last()).toHaveText("30 days");

  // The CSV: rows 3 and 4 are wrong; nothing is imported, both are named.
  await qm.goto("/dashboard/measurements");
  await qm.getByText("Import a CSV").click();
  const csv = `series,period,value,source\nrevenue,${thisMonth()},1000,Finance\nwidgets,${thisMonth()},1,Finance\nscrap_cost,${thisMonth()},lots,Finance\n`;
  await qm.getByLabel("CSV or XLSX file").setInputFiles({ name: "bad.csv", mimeType: "text/csv", buffer: Buffer.from(csv) });
  const problems = qm.getByTestId("import-problems");
  await expect(problems).toContainText("2 problem(s) in the file; nothing was imported.");
  await expect(problems.locator("li")).toHaveCount(3);
  await expect(problems).toContainText("Line 3, column series");
  await expect(problems).toContainText("Line 4, column value");
  await shot(qm, "dashboard-import-problems");
  const revenue = await qm.request.get(`/api/v1/measurements?series=revenue&from=${thisMonth()}`);
  expect((await revenue.json()).items, "the good row was not imported either").toEqual([]);
  await qm.close();
});

test("one KPI at full size: every month reachable by keyboard and named with its value, target and status; the same numbers in a table", async ({ browser }) => {
  const exec = await pageAs(browser, DEMO.executive.username);
  await exec.goto("/");
  await exec.locator('[data-kpi="defect_rate"] h2').getByRole("link", { name: "Defect rate" }).click();
  await expect(exec).toHaveURL(/\/dashboard\/kpi\/defect_rate$/);
  await expect(exec.getByRole("heading", { level: 1 })).toHaveText("Defect rate");
  const points = exec.getByTestId("chart-point");
  await expect(points).toHaveCount(12);
  await expect(exec.getByTestId("kpi-month")).toHaveCount(12);
  await points.first().focus();
  await expect(points.first()).toBeFocused();
  expect(await points.first().getAttribute("aria-label")).toMatch(/^\w{3} \d{4}: .+, target at most .+%, (On target|At risk|Off target|No data)$/);
  await exec.keyboard.press("ArrowRight");
  await expect(points.nth(1)).toBeFocused();
  await exec.keyboard.press("End");
  await expect(points.nth(11)).toBeFocused();
  // The focused month's value is shown beside it, and the table says the same.
  const label = (await points.nth(11).getAttribute("aria-label"))!;
  const month = label.split(":")[0];
  await expect(exec.locator(".chart-tip")).toContainText(month);
  await expect(exec.getByTestId("kpi-month").first()).toContainText(month);
  await shot(exec, "dashboard-kpi-chart");
  await exec.close();
});

test("a person chooses their tiles and their order; the choice is theirs on the next visit, and nobody else's", async ({ browser }) => {
  // Every tile to start with (a run before this one may have saved a choice).
  const owen = await apiAs("owen.price");
  const saved = await (await owen.get("/api/v1/me/dashboard")).json();
  const all = ["overdue_work", "training_completion", "defect_rate", "supplier_defect_rate", "copq", "capa_closure_time", "customer_complaints", "audit_findings"];
  const reset = await owen.put("/api/v1/me/dashboard", { data: { tiles: all, version: saved.version } });
  expect(reset.status(), await reset.text()).toBe(200);
  await owen.dispose();
  const owner = await pageAs(browser, "owen.price");
  await owner.goto("/");
  const tiles = owner.locator("article.tile[data-kpi]");
  await expect(tiles).toHaveCount(8);
  const before = await tiles.evaluateAll((ts) => ts.map((t) => t.getAttribute("data-kpi")!));
  await owner.getByRole("button", { name: "Choose tiles" }).click();
  const choices = owner.getByTestId("tile-choice");
  await choices.filter({ hasText: "Cost of poor quality" }).getByRole("checkbox").uncheck();
  await owner.getByRole("button", { name: "Move Customer complaints up" }).click();
  await owner.getByRole("button", { name: "Save my tiles" }).click();
  // Expected: the complaints tile one place earlier, the cost of poor quality gone.
  const moved = [...before];
  const i = moved.indexOf("customer_complaints");
  [moved[i - 1], moved[i]] = [moved[i], moved[i - 1]];
  const expected = moved.filter((k) => k !== "copq");
  await expect(tiles).toHaveCount(7);
  await expect(owner.locator('[data-kpi="copq"]')).toHaveCount(0);
  const order = await tiles.evaluateAll((ts) => ts.map((t) => t.getAttribute("data-kpi")));
  expect(order).toEqual(expected);
  await owner.reload();
  await expect(owner.locator("article.tile[data-kpi]")).toHaveCount(7);
  expect(await owner.locator("article.tile[data-kpi]").evaluateAll((ts) => ts.map((t) => t.getAttribute("data-kpi")))).toEqual(order);
  await shot(owner, "dashboard-chosen-tiles");
  await owner.close();
  // Someone else still has every tile.
  const exec = await apiAs(DEMO.executive.username);
  const mine = await (await exec.get("/api/v1/me/dashboard")).json();
  expect(mine.tiles).toContain("copq");
  await exec.dispose();
});

test("quality objectives: the demo's achieved one says so; the quality manager adds one, a missing owner named first", async ({ browser }) => {
  const qm = await pageAs(browser, DEMO.qualityManager.username);
  await qm.goto("/");
  const rows = qm.getByTestId("objective-row");
  await expect(rows.first()).toBeVisible();
  await expect(qm.locator('.objective-status[data-status="achieved"]').first()).toContainText("✓ Achieved");
  await qm.getByRole("button", { name: "New objective" }).click();
  const form = qm.getByRole("form", { name: "New objective" });
  const title = `Complaints below 3 a month ${Date.now()}`;
  await form.getByLabel("Objective").fill(title);
  await form.getByLabel("KPI").selectOption("customer_complaints");
  await form.getByLabel(/Target/).fill("3");
  await form.getByLabel("To reach by").fill("2027-06-30");
  await form.getByRole("button", { name: "Add the objective" }).click();
  await expect(form.getByRole("alert")).toContainText("owner_id");
  await form.getByLabel("Owner").selectOption({ label: "Owen Price" });
  await form.getByRole("button", { name: "Add the objective" }).click();
  const added = rows.filter({ hasText: title });
  await expect(added).toContainText("Owen Price");
  await expect(added).toContainText("2027-06-30");
  await expect(added.locator(".objective-status")).toHaveAttribute("data-status", /achieved|on_track|at_risk|missed|no_data/);
  await shot(qm, "dashboard-objectives");
  await qm.close();
});

test("one process's view: tiles of that process, the outside measurements marked organisation-wide", async ({ browser }) => {
  const qm = await pageAs(browser, DEMO.qualityManager.username);
  await qm.goto("/");
  const view = qm.locator('select[name="process"]');
  const option = view.locator("option", { hasText: "Process:" }).first();
  const value = (await option.getAttribute("value"))!;
  await view.selectOption(value);
  await expect(qm).toHaveURL(new RegExp(`process_id=${value}`));
  await expect(qm.locator('[data-kpi="defect_rate"]')).toContainText("Organisation-wide");
  await expect(qm.locator('[data-kpi="overdue_work"] [data-testid="tile-value"]')).toBeVisible();
  await shot(qm, "dashboard-process-view");
  await qm.close();
});

test("an API token: the administrator issues it (its secret shown once), a script posts a measurement with it and no session, a revoked one is refused", async ({ browser, playwright }) => {
  const admin = await pageAs(browser, DEMO.admin.username);
  const api = await apiAs(DEMO.admin.username);
  const priya = await userId(api, DEMO.qualityManager.name);
  await admin.goto(`/admin/users/${priya}`);
  const form = admin.getByRole("form", { name: "Issue a token" });
  const name = `ERP monthly figures ${Date.now()}`;
  await form.getByLabel("Name").fill(name);
  await form.getByRole("button", { name: "Issue a token" }).click();
  const secret = (await admin.getByTestId("token-secret").locator("code").innerText()).trim();
  expect(secret).toMatch(/^cal_/);
  await expect(admin.getByTestId("token-row").filter({ hasText: name })).toContainText("active");
  await shot(admin, "admin-api-token");

  const script = await playwright.request.newContext({ baseURL: process.env.CALIPER_BASE_URL ?? "http://127.0.0.1:8080" });
  // A month long before the dashboard's trends, so that no tile moves.
  const posted = await script.post("/api/v1/measurements", {
    headers: { Authorization: `Bearer ${secret}` },
    data: { series: "returns_cost", period: "2019-01", value: 1234, source: "ERP script" },
  });
  expect(posted.status(), await posted.text()).toBeLessThan(300);

  await admin.getByRole("button", { name: `Revoke ${name}` }).click();
  await expect(admin.getByTestId("token-row").filter({ hasText: name })).toContainText("revoked");
  const refused = await script.get("/api/v1/measurements", { headers: { Authorization: `Bearer ${secret}` } });
  expect(refused.status()).toBe(401);
  await script.dispose();
  await api.dispose();
  await admin.close();
});
