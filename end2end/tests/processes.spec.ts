import { expect, test, pageAs, shot, userId, DEMO, type APIRequestContext } from "./fixtures";

// Journeys through the process pages, as a process owner would click them, against the real
// server. Screenshots go to end2end/screenshots/ (git-ignored) for a person to look at.


async function processCount(request: APIRequestContext): Promise<number> {
  const res = await request.get("/api/v1/processes?include_retired=true");
  expect(res.ok()).toBeTruthy();
  return (await res.json()).items.length;
}

async function firstDepartment(request: APIRequestContext): Promise<{ id: number; name: string }> {
  const res = await request.get("/api/v1/departments");
  const { items } = await res.json();
  expect(items.length).toBeGreaterThan(0);
  return items[0];
}

test("an empty name is refused in the browser, then the fixed process is saved and survives a reload", async ({ page, request }) => {
  const before = await processCount(request);
  const dept = await firstDepartment(request);
  const posts: string[] = [];
  page.on("request", (r) => {
    if (r.method() === "POST" && r.url().includes("/api/v1/processes")) posts.push(r.url());
  });

  await page.goto("/admin/processes");
  await expect(page.getByRole("heading", { name: "Processes" })).toBeVisible();
  await expect(page.getByRole("table", { name: "Processes" })).toContainText("Document control");
  await shot(page, "01-process-list");
  await page.getByRole("link", { name: "New process" }).click();
  await expect(page).toHaveURL(/\/admin\/processes\/new$/);

  await page.getByLabel("Process owner").selectOption({ label: "Dev Malhotra" });
  await page.getByLabel("Department").selectOption(String(dept.id));
  await page.getByRole("button", { name: "Save" }).click();

  // The shared rule runs in the browser: the error sits next to the field, no request is sent.
  const nameError = page.locator('.field-error[data-field="name"]');
  await expect(nameError).toHaveText("This field is required.");
  await expect(page.getByLabel("Name")).toHaveAttribute("aria-invalid", "true");
  await expect(page.getByRole("alert").filter({ hasText: "Not saved" })).toBeVisible();
  await shot(page, "02-empty-name-refused");
  expect(posts).toHaveLength(0);
  expect(await processCount(request)).toBe(before);

  // Fixed as you type: the error goes away, the save goes through.
  const name = `Heat treatment ${Date.now()}`;
  await page.getByLabel("Name").fill(name);
  await expect(nameError).toBeEmpty();
  await page.getByLabel("Description").fill("Harden shafts to 58–62 HRC; furnace chart kept 10 years.");
  await page.getByRole("button", { name: "Save" }).click();
  await expect(page).toHaveURL(/\/admin\/processes\/\d+$/);
  await expect(page.getByRole("heading", { name })).toBeVisible();
  expect(posts).toHaveLength(1);
  expect(await processCount(request)).toBe(before + 1);

  await page.reload();
  await expect(page.getByLabel("Name")).toHaveValue(name);
  await expect(page.getByLabel("Process owner").locator("option:checked")).toHaveText("Dev Malhotra");
  await expect(page.getByLabel("Department")).toHaveValue(String(dept.id));
  await expect(page.getByTestId("version")).toHaveText("1");
  await shot(page, "03-saved-after-reload");

  await page.getByRole("link", { name: "Back to list" }).click();
  await expect(page.getByRole("table", { name: "Processes" })).toContainText(name);
});

test("two people save the same process: the second sees the conflict and nothing is lost", async ({ browser, request }) => {
  const dept = await firstDepartment(request);
  const created = await request.post("/api/v1/processes", {
    data: { name: `Deburring ${Date.now()}`, owner_id: await userId(request, "Tom Okafor"), department_id: dept.id, description: "Manual deburr" },
  });
  expect(created.status()).toBe(201);
  const process = await created.json();
  const url = `/admin/processes/${process.id}`;

  const alice = await pageAs(browser, DEMO.admin.username);
  const bob = await pageAs(browser, DEMO.qualityManager.username);
  await alice.goto(url);
  await bob.goto(url);
  await expect(alice.getByLabel("Name")).toHaveValue(process.name);
  await expect(bob.getByLabel("Name")).toHaveValue(process.name);

  // Alice saves first.
  await alice.getByLabel("Process owner").selectOption({ label: "Marta Kowalska" });
  await alice.getByLabel("Reason for change").fill("Marta runs deburring now");
  await alice.getByRole("button", { name: "Save" }).click();
  await expect(alice.getByRole("status")).toHaveText("Saved.");
  await expect(alice.getByTestId("version")).toHaveText("2");

  // Bob, still on version 1, saves his own edit.
  const bobsText = "Robot deburr cell, brushes changed every shift";
  await bob.getByLabel("Description").fill(bobsText);
  await bob.getByLabel("Reason for change").fill("Robot cell installed");
  await bob.getByRole("button", { name: "Save" }).click();
  const panel = bob.getByRole("alert").filter({ hasText: "Changed by someone else" });
  await expect(panel).toBeVisible();
  // Rows: name, owner, department, description; columns: when opened, yours, theirs.
  await expect(panel.locator("td.theirs")).toContainText(["Deburring", "Marta Kowalska", dept.name, "Manual deburr"]);
  await expect(panel.locator("td.mine").nth(3)).toHaveText(bobsText);
  await expect(panel).toContainText("touch different fields");
  // What Bob typed is still in his form, and Alice's change is intact on the server.
  await expect(bob.getByLabel("Description")).toHaveValue(bobsText);
  await bob.screenshot({ path: "screenshots/04-conflict.png", fullPage: true });
  let saved = await (await request.get(`/api/v1/processes/${process.id}`)).json();
  expect([saved.owner_name, saved.description, saved.version]).toEqual(["Marta Kowalska", "Manual deburr", 2]);

  // Different fields: Bob combines his change with Alice's version.
  await panel.getByRole("button", { name: "Combine: apply my changes to their version" }).click();
  await expect(bob.getByRole("status")).toHaveText("Saved.");
  await expect(bob.getByLabel("Process owner").locator("option:checked")).toHaveText("Marta Kowalska");
  saved = await (await request.get(`/api/v1/processes/${process.id}`)).json();
  expect([saved.owner_name, saved.description, saved.version]).toEqual(["Marta Kowalska", bobsText, 3]);

  // Now both change the owner: a real clash, no automatic combination; Bob takes Alice's.
  await alice.reload();
  await alice.getByLabel("Process owner").selectOption({ label: "Graham Lees" });
  await alice.getByLabel("Reason for change").fill("Purchasing takes it over");
  await alice.getByRole("button", { name: "Save" }).click();
  await expect(alice.getByTestId("version")).toHaveText("4");
  await bob.getByLabel("Process owner").selectOption({ label: "Aisha Rahman" });
  await bob.getByLabel("Reason for change").fill("Engineering takes it over");
  await bob.getByRole("button", { name: "Save" }).click();
  await expect(panel).toContainText("Both of you changed: Process owner.");
  await expect(panel.getByRole("button", { name: /Combine/ })).toHaveCount(0);
  await bob.screenshot({ path: "screenshots/05-conflict-clash.png", fullPage: true });
  await panel.getByRole("button", { name: "Discard mine and reload theirs" }).click();
  await expect(bob.getByLabel("Process owner").locator("option:checked")).toHaveText("Graham Lees");
  await expect(panel).toHaveCount(0);
  saved = await (await request.get(`/api/v1/processes/${process.id}`)).json();
  expect([saved.owner_name, saved.version]).toEqual(["Graham Lees", 4]);
});

test("areas not built yet say so plainly, with no made-up figures", async ({ page }) => {
  await page.goto("/");
  const nav = page.getByRole("navigation", { name: "Areas" });
  for (const area of ["Dashboard", "Documents", "Training", "FMEA", "Risks", "Nonconformance", "Complaints", "CAPA", "Audits", "Suppliers", "Changes", "Management review", "Admin"]) {
    await expect(nav.getByRole("link", { name: area, exact: true })).toBeVisible();
  }
  await nav.getByRole("link", { name: "Audits", exact: true }).click();
  await expect(page).toHaveURL(/\/audits$/);
  await expect(page.getByRole("heading", { name: "Audits" })).toBeVisible();
  await expect(page.locator("main")).toContainText("Audits is not available yet.");
  await expect(nav.getByRole("link", { name: "Audits", exact: true })).toHaveAttribute("aria-current", "page");
  await shot(page, "06-not-available");

  await nav.getByRole("link", { name: "Admin", exact: true }).click();
  await page.getByRole("link", { name: /Departments/ }).click();
  await expect(page.getByRole("table")).toContainText("Quality Assurance");

  // An address that is no page says so, and leads back to the dashboard.
  await page.goto("/no-such-page");
  await expect(page.getByRole("heading", { name: "Page not found" })).toBeVisible();
  await expect(page.locator("main")).toContainText("There is no page at this address.");
  await page.locator("main").getByRole("link", { name: "dashboard" }).click();
  await expect(page).toHaveURL(/\/$/);
});

test("a process someone else creates appears in an open list without a reload", async ({ page, request }) => {
  await page.goto("/admin/processes");
  const table = page.getByRole("table", { name: "Processes" });
  await expect(table).toContainText("Document control");
  const dept = await firstDepartment(request);
  const name = `Anodising ${Date.now()}`;
  const created = await request.post("/api/v1/processes", {
    data: { name, owner_id: await userId(request, "Graham Lees"), department_id: dept.id },
  });
  expect(created.status()).toBe(201);
  // Live updates (/api/v1/events): no reload, no click.
  await expect(table).toContainText(name);
  await shot(page, "20-live-update");
});
