import { expect, test } from "./fixtures";

// An admin sets up the organisation: departments and sites, with the same rules in the
// browser as on the server (blank → refused before sending; a duplicate → the server's 422
// shown next to the field).

test("an admin creates a department, and a duplicate name is refused next to the field", async ({ page }) => {
  const name = `Metrology ${Date.now()}`;
  await page.goto("/admin/departments");
  await page.getByText("New department").click();
  await page.getByRole("button", { name: "Create department" }).click();
  await expect(page.locator('.field-error[data-field="name"]')).toHaveText("This field is required.");

  await page.getByLabel("Name").fill(name);
  await page.getByLabel("Site").selectOption({ label: "Headquarters & Plant 1" });
  await page.getByRole("button", { name: "Create department" }).click();
  await expect(page.getByRole("status")).toHaveText(`Department “${name}” created.`);
  const row = page.getByRole("table", { name: "Departments" }).getByRole("row").filter({ hasText: name });
  await expect(row).toContainText("Headquarters & Plant 1");
  await expect(page.getByLabel("Name")).toHaveValue("");

  await page.getByLabel("Name").fill(name.toUpperCase());
  await page.getByRole("button", { name: "Create department" }).click();
  await expect(page.locator('.field-error[data-field="name"]')).toHaveText("Another active record already uses this value.");
  await page.screenshot({ path: "screenshots/09-department-duplicate.png", fullPage: true });

  // The new department can run a process at once.
  await page.goto("/admin/processes/new");
  await expect(page.getByLabel("Department").locator("option", { hasText: name })).toHaveCount(1);
});

test("a site code in the wrong format is refused in the browser", async ({ page }) => {
  const name = `Plant ${Date.now() % 1000000}`;
  await page.goto("/admin/sites");
  await page.getByText("New site").click();
  await page.getByLabel("Code (letters, digits, -)").fill("PLANT 3");
  await page.getByLabel("Name").fill(name);
  await page.getByRole("button", { name: "Create site" }).click();
  await expect(page.locator('.field-error[data-field="code"]')).toHaveText("This value is not in the expected format.");
  await page.getByLabel("Code (letters, digits, -)").fill(`p3-${Date.now() % 100000}`);
  await page.getByRole("button", { name: "Create site" }).click();
  await expect(page.getByRole("status")).toContainText("created");
  await expect(page.getByRole("table", { name: "Sites" })).toContainText(name);
});

test("an admin chooses how document revisions are labelled (and sets it back)", async ({ page, request }) => {
  await page.goto("/admin");
  const form = page.getByRole("region", { name: "Document control" });
  await expect(form.getByLabel(/^Letters/)).toBeChecked();
  await form.getByLabel(/^Numbers/).check();
  await form.getByRole("button", { name: "Save" }).click();
  await expect(form.getByRole("status")).toContainText("Saved");
  expect((await (await request.get("/api/v1/settings/documents")).json()).revision_labels).toBe("numbers");
  await form.getByLabel(/^Letters/).check();
  await form.getByRole("button", { name: "Save" }).click();
  await expect.poll(async () => (await (await request.get("/api/v1/settings/documents")).json()).revision_labels).toBe("letters");
});
