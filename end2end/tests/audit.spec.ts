import { expect, test, userId } from "./fixtures";

// The audit trail as a quality manager reads it: a change shows who, when and old → new, on
// the record's own page and on the audit-trail page, and the chain verifies.

test("a saved change appears in the record's history and the audit trail, and the chain verifies", async ({ page, request }) => {
  const { items } = await (await request.get("/api/v1/departments")).json();
  const created = await request.post("/api/v1/processes", {
    data: { name: `Plating ${Date.now()}`, owner_id: await userId(request, "Graham Lees"), department_id: items[0].id },
  });
  expect(created.status()).toBe(201);
  const process = await created.json();

  await page.goto(`/admin/processes/${process.id}`);
  await page.getByLabel("Process owner").selectOption({ label: "Marta Kowalska" });
  // A change to a controlled record needs its reason: refused in the browser without one.
  await page.getByRole("button", { name: "Save" }).click();
  await expect(page.locator("#field-reason-error")).toHaveText("This field is required.");
  await expect(page.getByLabel("Reason for change")).toHaveAttribute("aria-invalid", "true");
  await page.getByLabel("Reason for change").fill("Plating moves to assembly");
  await page.getByRole("button", { name: "Save" }).click();
  await expect(page.getByRole("status")).toHaveText("Saved.");

  await page.getByText("History (audit trail)").click();
  const history = page.getByRole("table", { name: "Audit trail" });
  const update = history.getByRole("row").filter({ hasText: "update" });
  await expect(update).toContainText("owner_name: Graham Lees → Marta Kowalska");
  await expect(update).toContainText("Plating moves to assembly");
  await expect(history.getByRole("row").filter({ hasText: "create" })).toContainText(process.name);
  await page.screenshot({ path: "screenshots/07-record-history.png", fullPage: true });

  await page.getByRole("link", { name: "Open in the audit trail" }).click();
  await expect(page).toHaveURL(/\/admin\/audit\?record_type=process&record_id=\d+$/);
  const trail = page.getByRole("table", { name: "Audit trail" });
  await expect(trail.getByRole("row")).toHaveCount(3); // header + create + update
  await page.getByRole("button", { name: "Verify the chain" }).click();
  await expect(page.getByRole("status")).toContainText("Chain intact");
  await page.screenshot({ path: "screenshots/08-audit-trail.png", fullPage: true });

  // Filters: nothing by an unknown person.
  await page.getByLabel("Who").fill("Nobody At All");
  await page.getByRole("button", { name: "Apply filters" }).click();
  await expect(page.getByText("No audit entries match.")).toBeVisible();
});
