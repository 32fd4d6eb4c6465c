import { expect, test, apiAs, pageAs, shot, DEMO, DEMO_PASSWORD, userId } from "./fixtures";
import type { APIRequestContext } from "@playwright/test";

test("a reader finds the revision in force and compares it with the one it superseded", async ({ browser }) => {
  const qm = await apiAs(DEMO.qualityManager.username);
  const owner = await apiAs(DEMO.processOwner.username);
  const reviewer = await apiAs("aisha.rahman");
  const [ownerId, reviewerId, qmId] = await Promise.all([
    userId(qm, DEMO.processOwner.name), userId(qm, "Aisha Rahman"), userId(qm, DEMO.qualityManager.name),
  ]);
  const title = `Control of records ${Date.now()}`;
  const created = await qm.post("/api/v1/documents", {
    data: { doc_type: "sop", title, owner_id: ownerId, reviewers: [reviewerId], approvers: [qmId], review_interval_months: 24, retention_years: 10 },
  });
  expect(created.status(), await created.text()).toBe(201);
  const doc = await created.json();

  // Drafted by the owner, submitted, reviewed and approved by signature (through the API).
  async function approve(body: string, extra: Record<string, string> = {}) {
    const r = await owner.post(`/api/v1/documents/${doc.id}/revisions`, { data: { body, ...extra } });
    expect(r.status(), await r.text()).toBe(201);
    const rev = await r.json();
    const moved = await owner.post(`/api/v1/document-revisions/${rev.id}/move`, { data: { action: "submit", version: rev.version } });
    expect(moved.status(), await moved.text()).toBe(200);
    const signers: [APIRequestContext, string][] = [[reviewer, "reviewed"], [qm, "approved"]];
    for (const [client, meaning] of signers) {
      const s = await client.post("/api/v1/signatures", {
        data: { record_type: "document_revision", record_id: rev.id, record_version: rev.content_version, meaning, password: DEMO_PASSWORD, accept_agreement: true },
      });
      expect(s.status(), await s.text()).toBe(201);
    }
  }
  await approve("Purpose\nKeep quality records for ten years.");
  await approve("Purpose\nKeep quality records for ten years.\nIndex them by document number.", {
    reason_for_change: "Audit finding 7", change_summary: "Indexing added",
  });

  // A member of staff: the list shows revision B in force; the page shows its text.
  const page = await pageAs(browser, DEMO.staff.username);
  await page.goto("/documents");
  const row = page.getByTestId("document-row").filter({ hasText: title });
  await expect(row).toContainText("Revision B");
  await expect(row).toContainText(doc.number);
  await row.getByRole("link", { name: doc.number }).click();
  await expect(page.getByRole("heading", { level: 1 })).toHaveText(`${doc.number} ${title}`);
  await expect(page.getByTestId("in-force")).toHaveText("Revision B in force");
  await expect(page.locator(".doc-body")).toContainText("Index them by document number.");
  const rows = page.getByTestId("revision-row");
  await expect(rows).toHaveCount(2);
  await expect(rows.first()).toContainText("Effective");
  await expect(rows.last()).toContainText("Superseded");

  // The comparison: A to B, the added line marked (also in words, for a screen reader).
  const diff = page.getByTestId("diff");
  await expect(diff.locator(".diff-added")).toHaveText("added: Index them by document number.");
  await expect(diff.locator(".diff-same")).toHaveCount(2);
  await expect(diff.locator(".diff-removed")).toHaveCount(0);
  await shot(page, "documents-page-diff");
  await page.close();
});
