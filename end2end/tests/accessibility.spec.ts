import { readFileSync } from "node:fs";
import AxeBuilder from "@axe-core/playwright";
import { expect, test, apiAs, pageAs, userId, DEMO, type APIRequestContext, type Page } from "./fixtures";

// Every route of the app, checked with axe-core (WCAG 2.0, 2.1 and 2.2, levels A and AA) as the
// role that uses it. The routes come from the app's route table (app/src/app.rs), so a new page
// is checked by being a route; one that this file cannot reach fails the test until it says how.

const WCAG = ["wcag2a", "wcag2aa", "wcag21a", "wcag21aa", "wcag22a", "wcag22aa"];

/** The route patterns of the app, in the order of its route table. */
function routes(): string[] {
  const source = readFileSync("../app/src/app.rs", "utf8");
  return [...source.matchAll(/path!\("([^"]+)"\)/g)].map((m) => m[1]);
}

/** axe's violations on the page, one line each: where, rule, impact, and the first nodes. */
export async function violations(page: Page, where: string): Promise<string[]> {
  const { violations } = await new AxeBuilder({ page }).withTags(WCAG).analyze();
  return violations.map(
    (v) => `${where}: ${v.id} (${v.impact}) ${v.help}: ${v.nodes.map((n) => n.target.join(" ")).slice(0, 5).join(" | ")}`,
  );
}

/** Fails with every violation on the page. */
export async function expectAccessible(page: Page, where: string) {
  expect(await violations(page, where)).toEqual([]);
}

/** The first item's id of a list endpoint. */
async function firstId(api: APIRequestContext, url: string): Promise<number> {
  const res = await api.get(url);
  expect(res.ok(), url).toBeTruthy();
  const body = await res.json();
  const items = Array.isArray(body) ? body : body.items;
  expect(items.length, `${url} has an item`).toBeGreaterThan(0);
  return items[0].id;
}

test("every route passes axe-core's WCAG 2.2 A and AA rules", async ({ browser }) => {
  test.setTimeout(180_000);
  const qm = await apiAs(DEMO.qualityManager.username);
  const admin = await apiAs(DEMO.admin.username);
  // How to reach each route with a parameter: a record of the demo data.
  const ids: Record<string, () => Promise<string>> = {
    "/admin/processes/:id": async () => `/admin/processes/${await firstId(admin, "/api/v1/processes")}`,
    "/admin/users/:id": async () => `/admin/users/${await firstId(admin, "/api/v1/users")}`,
    "/documents/:id": async () => `/documents/${await firstId(qm, "/api/v1/documents")}`,
    "/documents/:id/revisions/:rev": async () => await revision(""),
    "/documents/:id/revisions/:rev/print": async () => await revision("/print"),
    "/dashboard/kpi/:kpi": async () => "/dashboard/kpi/defect_rate",
    "/training/assignments/:id": async () => `/training/assignments/${await firstId(qm, "/api/v1/training/assignments")}`,
    "/fmea/:id": async () => `/fmea/${await firstId(qm, "/api/v1/fmeas")}`,
    "/fmea/:id/header": async () => `/fmea/${await firstId(qm, "/api/v1/fmeas")}/header`,
    "/risks/matrices/:id": async () => `/risks/matrices/${await firstId(qm, "/api/v1/risk-matrices")}`,
    "/risks/:id": async () => `/risks/${await firstId(qm, "/api/v1/risks")}`,
    "/quality/ncs/:id": async () => `/quality/ncs/${await firstId(qm, "/api/v1/ncs")}`,
    "/quality/complaints/:id": async () => `/quality/complaints/${await firstId(qm, "/api/v1/complaints")}`,
    "/quality/capas/:id": async () => `/quality/capas/${await firstId(qm, "/api/v1/capas")}`,
    "/quality/capas/:id/8d": async () => `/quality/capas/${await firstId(qm, "/api/v1/capas")}/8d`,
    "/:area": async () => "/audits",
  };
  async function revision(tail: string): Promise<string> {
    const doc = await firstId(qm, "/api/v1/documents");
    return `/documents/${doc}/revisions/${await firstId(qm, `/api/v1/documents/${doc}/revisions`)}${tail}`;
  }
  const asAdmin = await pageAs(browser, DEMO.admin.username);
  const asQm = await pageAs(browser, DEMO.qualityManager.username);
  const unreachable: string[] = [];
  const checked: string[] = [];
  const found: string[] = [];
  for (const route of routes()) {
    let url = route;
    if (route.includes(":")) {
      const resolve = ids[route];
      if (!resolve) {
        unreachable.push(route);
        continue;
      }
      url = await resolve();
    }
    const page = route.startsWith("/admin") ? asAdmin : asQm;
    await page.goto(url);
    await expect(page.locator("main h1").first()).toBeVisible();
    await expect(page.getByText("Loading…")).toHaveCount(0);
    found.push(...(await violations(page, url)));
    checked.push(url);
  }
  expect(unreachable, "routes this check cannot reach: add them to `ids`").toEqual([]);
  expect(found, "accessibility violations (WCAG 2.2 A/AA)").toEqual([]);
  expect(checked.length).toBe(routes().length);
  await qm.dispose();
  await admin.dispose();
  await asAdmin.context().close();
  await asQm.context().close();
});

test("dialogs and states pass too: field errors, the signature dialog, a focused heatmap cell, a cell being edited, the conflict panel", async ({ browser, request }) => {
  const found: string[] = [];
  const admin = await pageAs(browser, DEMO.admin.username);
  // A form showing its field errors (the shared rule, in the browser).
  await admin.goto("/admin/processes/new");
  await admin.getByRole("button", { name: "Save" }).click();
  await expect(admin.locator('.field-error[data-field="name"]')).toBeVisible();
  found.push(...(await violations(admin, "process form with field errors")));
  // The check itself catches what it is for: an input without a label fails it.
  await admin.evaluate(() => document.querySelector("main")!.insertAdjacentHTML("beforeend", '<input type="text" id="unlabelled">'));
  const caught = await violations(admin, "deliberately unlabelled input");
  expect(caught.some((v) => v.includes(": label (critical)") && v.includes("#unlabelled")), caught.join("\n")).toBeTruthy();
  await admin.evaluate(() => document.getElementById("unlabelled")!.remove());
  await admin.context().close();

  // The signature dialog, with a wrong password's message.
  const { items } = await (await request.get("/api/v1/departments")).json();
  const me = (await (await request.get("/api/v1/session")).json()).user.id;
  const created = await request.post("/api/v1/processes", {
    data: { name: `Passivation ${Date.now()}`, owner_id: me, department_id: items[0].id },
  });
  expect(created.status()).toBe(201);
  const qm = await pageAs(browser, DEMO.qualityManager.username);
  await qm.goto(`/admin/processes/${(await created.json()).id}`);
  await qm.getByRole("button", { name: "Sign…" }).first().click();
  const dialog = qm.getByRole("dialog");
  await dialog.getByLabel("Username").fill(DEMO.qualityManager.username);
  await dialog.getByLabel("Password").fill("not-my-password");
  await dialog.getByRole("button", { name: "Sign", exact: true }).click();
  await expect(dialog.locator(".alert")).toBeVisible();
  found.push(...(await violations(qm, "signature dialog")));

  // The heatmap with a cell focused.
  await qm.goto("/risks");
  const cell = qm.locator(".heat-cell").first();
  await cell.focus();
  await expect(cell).toBeFocused();
  found.push(...(await violations(qm, "heatmap, a cell focused")));

  // The worksheet with a cell in edit mode.
  const fmeas = (await (await request.get("/api/v1/fmeas")).json()).items;
  await qm.goto(`/fmea/${fmeas[0].id}`);
  const rating = qm.getByTestId("sheet-row").first().locator('[data-col="occurrence"]');
  await rating.click();
  await qm.keyboard.press("Enter");
  await expect(qm.locator(".cell.editing")).toHaveCount(1);
  found.push(...(await violations(qm, "worksheet, a cell being edited")));
  await qm.keyboard.press("Escape");
  await qm.context().close();

  // The conflict panel: the owner edits a draft that someone else saved meanwhile.
  const manager = await apiAs(DEMO.qualityManager.username);
  const ownerApi = await apiAs(DEMO.processOwner.username);
  const [ownerId, managerId] = [await userId(manager, DEMO.processOwner.name), await userId(manager, DEMO.qualityManager.name)];
  const doc = await (await manager.post("/api/v1/documents", {
    data: { doc_type: "form", title: `Checklist ${Date.now()}`, owner_id: ownerId, approvers: [managerId], review_interval_months: 12, retention_years: 5 },
  })).json();
  const draft = await (await ownerApi.post(`/api/v1/documents/${doc.id}/revisions`, { data: { body: "1. Check the gauge." } })).json();
  const owner = await pageAs(browser, DEMO.processOwner.username);
  await owner.goto(`/documents/${doc.id}/revisions/${draft.id}`);
  await owner.getByLabel("Text (Markdown)").fill("1. Check the gauge.\n2. Sign the sheet.");
  const saved = await ownerApi.put(`/api/v1/document-revisions/${draft.id}`, {
    headers: { "If-Match": `"${draft.version}"` }, data: { body: "1. Check the gauge and its date." },
  });
  expect(saved.status(), await saved.text()).toBe(200);
  await owner.getByRole("button", { name: "Save draft" }).click();
  await expect(owner.getByRole("heading", { name: "Changed by someone else" })).toBeVisible();
  found.push(...(await violations(owner, "conflict panel")));
  await owner.context().close();
  await manager.dispose();
  await ownerApi.dispose();

  expect(found, "accessibility violations (WCAG 2.2 A/AA)").toEqual([]);
});
