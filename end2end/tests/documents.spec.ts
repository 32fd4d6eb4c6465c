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
    // A session's first signature: the username with the password.
    const signers: [APIRequestContext, string, string][] = [
      [reviewer, "reviewed", "aisha.rahman"],
      [qm, "approved", DEMO.qualityManager.username],
    ];
    for (const [client, meaning, username] of signers) {
      const s = await client.post("/api/v1/signatures", {
        data: { record_type: "document_revision", record_id: rev.id, record_version: rev.content_version, meaning, password: DEMO_PASSWORD, accept_agreement: true, username },
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
  await page.getByLabel("Number or title").fill(title);
  await page.getByLabel("Number or title").press("Enter");
  await expect(page.getByTestId("document-count")).toHaveText("1–1 of 1 document(s)");
  const row = page.getByTestId("document-row").filter({ hasText: title });
  await expect(row).toContainText("Revision B");
  await expect(row).toContainText("In force");
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

test("a revision goes from the owner's draft through send-back and signatures to force, and prints as a controlled copy", async ({ browser }) => {
  const qmApi = await apiAs(DEMO.qualityManager.username);
  const [ownerId, reviewerId] = await Promise.all([userId(qmApi, DEMO.processOwner.name), userId(qmApi, "Aisha Rahman")]);
  const stamp = Date.now();
  const title = `Torque check ${stamp}`;

  // The quality manager creates the document; the shared rules name what is missing first.
  const qm = await pageAs(browser, DEMO.qualityManager.username);
  await qm.goto("/documents");
  await qm.getByRole("link", { name: "New document" }).click();
  await qm.getByRole("button", { name: "Create document" }).click();
  await expect(qm.locator('[data-field="title"]')).not.toBeEmpty();
  await expect(qm.locator('[data-field="owner_id"]')).not.toBeEmpty();
  await expect(qm.locator('[data-field="approvers"]')).not.toBeEmpty();
  await qm.getByLabel("Type").selectOption("work_instruction");
  await qm.getByLabel("Title").fill(title);
  await qm.getByRole("combobox", { name: "Owner" }).selectOption(String(ownerId));
  await qm.getByRole("group", { name: "Reviewers" }).getByLabel("Aisha Rahman").check();
  await qm.getByRole("group", { name: "Approvers" }).getByLabel(DEMO.qualityManager.name).check();
  await qm.getByRole("group", { name: /Readers by role/ }).getByLabel("Staff").check();
  await qm.getByRole("button", { name: "Create document" }).click();
  await expect(qm.locator("main h1")).toContainText(title);
  const docUrl = qm.url();
  const docId = Number(docUrl.split("/").pop());
  const doc = await (await qmApi.get(`/api/v1/documents/${docId}`)).json();
  expect(doc.number).toMatch(/^WI-\d{4}$/);
  expect(doc.reviewers).toEqual([reviewerId]);

  // Revision A is approved through the API (the browser steps are shown on B).
  const ownerApi = await apiAs(DEMO.processOwner.username);
  const reviewerApi = await apiAs("aisha.rahman");
  const a = await (await ownerApi.post(`/api/v1/documents/${docId}/revisions`, { data: { body: "# Torque check\n\n1. Set the wrench to 25 Nm.\n2. Tighten the four bolts crosswise." } })).json();
  expect((await ownerApi.post(`/api/v1/document-revisions/${a.id}/move`, { data: { action: "submit", version: a.version } })).status()).toBe(200);
  for (const [client, meaning, username] of [[reviewerApi, "reviewed", "aisha.rahman"], [qmApi, "approved", DEMO.qualityManager.username]] as const) {
    const s = await client.post("/api/v1/signatures", { data: { record_type: "document_revision", record_id: a.id, record_version: a.content_version, meaning, password: DEMO_PASSWORD, accept_agreement: true, username } });
    expect(s.status(), await s.text()).toBe(201);
  }

  // The owner drafts B from A's text, saying why; a missing reason is named by field.
  const owner = await pageAs(browser, DEMO.processOwner.username);
  await owner.goto(`/documents/${docId}`);
  await expect(owner.getByTestId("in-force")).toContainText("Revision A in force");
  await owner.getByRole("button", { name: "New revision" }).click();
  const newRevision = owner.getByRole("dialog");
  await newRevision.getByRole("button", { name: "Create draft" }).click();
  await expect(newRevision.locator('[data-field="reason_for_change"]')).not.toBeEmpty();
  await expect(newRevision.locator('[data-field="change_summary"]')).not.toBeEmpty();
  await newRevision.getByLabel("Reason for change").fill("Joint redesign raised the torque");
  await newRevision.getByLabel("What changes").fill("28 Nm; bolts marked");
  await newRevision.getByRole("button", { name: "Create draft" }).click();
  await expect(owner.locator("main h1")).toContainText("revision B");
  await expect(owner.getByTestId("revision-banner")).toContainText("DRAFT");
  const body = owner.getByLabel("Text (Markdown)");
  await expect(body).toHaveValue(/Set the wrench to 25 Nm/);
  // A drawing attached to the draft: bytes that are not a PDF are refused by name; a PDF is kept.
  const picker = owner.getByLabel(/Attach a file/);
  await picker.setInputFiles({ name: "torque.pdf", mimeType: "application/pdf", buffer: Buffer.from("not a pdf at all") });
  await expect(owner.locator('[data-field="file"]')).toContainText("file:");
  const pdf = Buffer.from("%PDF-1.4\n1 0 obj << >> endobj\ntrailer << >>\n%%EOF\n");
  await picker.setInputFiles({ name: "torque.pdf", mimeType: "application/pdf", buffer: pdf });
  await expect(owner.getByTestId("doc-file").first()).toContainText("torque.pdf");
  const fileUrl = await owner.getByTestId("doc-file").first().getByRole("link").getAttribute("href");
  const served = await ownerApi.get(fileUrl!);
  expect(Buffer.from(await served.body()).equals(pdf)).toBeTruthy();
  await owner.getByLabel("Reason for change").fill("");
  await owner.getByRole("button", { name: "Submit for review" }).click();
  await expect(owner.locator('[data-field="reason_for_change"]')).not.toBeEmpty();
  await owner.getByLabel("Reason for change").fill("Joint redesign raised the torque");
  await body.fill("# Torque check\n\n1. Set the wrench to 28 Nm.\n2. Tighten the four bolts crosswise.\n3. Mark each bolt with a paint pen.");
  await owner.getByRole("button", { name: "Submit for review" }).click();
  await expect(owner.getByTestId("revision-banner")).toContainText("IN REVIEW");

  // The reviewer sends it back with a reason.
  const reviewer = await pageAs(browser, "aisha.rahman");
  const bUrl = owner.url();
  await reviewer.goto(bUrl);
  await expect(reviewer.getByTestId("revision-banner")).toContainText("IN REVIEW");
  await expect(reviewer.getByTestId("doc-body")).toContainText("Mark each bolt with a paint pen.");
  await reviewer.getByRole("button", { name: "Send back…" }).click();
  await reviewer.getByRole("dialog").getByRole("button", { name: "Send back" }).click();
  await expect(reviewer.getByRole("dialog").locator('[data-field="reason"]')).toHaveText("Required.");
  await reviewer.getByRole("dialog").getByLabel("Reason").fill("Say which paint pen colour");
  await reviewer.getByRole("dialog").getByRole("button", { name: "Send back" }).click();
  await expect(reviewer.getByRole("dialog")).toHaveCount(0);
  await expect(reviewer.getByTestId("revision-banner")).toContainText("DRAFT");

  // The owner sees why, fixes the text and submits again.
  await owner.reload();
  await expect(owner.getByTestId("sent-back")).toContainText("Say which paint pen colour");
  await owner.getByLabel("Text (Markdown)").fill(`# Torque check\n\n1. Set the wrench to 28 Nm.\n2. Tighten the four bolts crosswise.\n3. Mark each bolt with a yellow paint pen (batch k${stamp}).`);
  await owner.getByRole("button", { name: "Submit for review" }).click();
  await expect(owner.getByTestId("revision-banner")).toContainText("IN REVIEW");

  // The reviewer signs "reviewed", then the approver "approved", each with the password.
  await reviewer.reload();
  await reviewer.getByRole("button", { name: "Sign…" }).click();
  let dialog = reviewer.getByRole("dialog");
  await expect(dialog).toContainText("Reviewed");
  // The session's first signature: every component, the username typed too.
  await dialog.getByLabel("Username").fill("aisha.rahman");
  await dialog.getByLabel("Password").fill(DEMO_PASSWORD);
  const agreement = dialog.getByLabel("I accept the electronic-signature agreement");
  if (await agreement.count()) await agreement.check();
  await dialog.getByRole("button", { name: "Sign", exact: true }).click();
  await expect(reviewer.getByRole("dialog")).toHaveCount(0);
  await expect(reviewer.locator(".signature").filter({ hasText: "Aisha Rahman" })).toContainText("Reviewed");

  await qm.goto(bUrl);
  await expect(qm.getByRole("button", { name: "Sign…" })).toHaveCount(1);
  await qm.getByRole("button", { name: "Sign…" }).click();
  dialog = qm.getByRole("dialog");
  await dialog.getByLabel("Username").fill(DEMO.qualityManager.username);
  await dialog.getByLabel("Password").fill("not-my-password");
  await dialog.getByRole("button", { name: "Sign", exact: true }).click();
  await expect(dialog.getByRole("alert").first()).toBeVisible();
  await dialog.getByLabel("Password").fill(DEMO_PASSWORD);
  const qmAgreement = dialog.getByLabel("I accept the electronic-signature agreement");
  if (await qmAgreement.count()) await qmAgreement.check();
  await dialog.getByRole("button", { name: "Sign", exact: true }).click();
  await expect(qm.getByRole("dialog")).toHaveCount(0);
  // Approved without an effective date: in force at once, so no banner.
  await expect(qm.getByTestId("revision-banner")).toHaveCount(0);
  await expect(qm.locator("main h1")).toContainText("revision B");
  await shot(qm, "documents-revision-approved");

  // A member of staff finds it by a word of its text, reads B in force, sees A marked
  // SUPERSEDED, compares them, prints B.
  const reader = await pageAs(browser, DEMO.staff.username);
  await reader.goto("/documents");
  await reader.getByLabel("Search documents").fill(`K${stamp}`);
  await reader.getByRole("button", { name: "Search" }).click();
  const hit = reader.getByTestId("search-hit");
  await expect(hit).toHaveCount(1);
  await expect(hit.locator("mark")).toHaveText(`k${stamp}`);
  await expect(hit).toContainText("revision B in force");
  await shot(reader, "documents-search");
  await hit.getByRole("link").click();
  await expect(reader.getByTestId("in-force")).toContainText("Revision B in force");
  await expect(reader.getByTestId("doc-body").locator("li")).toHaveCount(3);
  await expect(reader.getByRole("button", { name: "New revision" })).toHaveCount(0);
  const diff = reader.getByTestId("diff");
  await expect(diff.locator(".diff-added")).toHaveCount(2);
  await expect(diff.locator(".diff-removed")).toHaveCount(1);
  await reader.getByRole("link", { name: "A", exact: true }).click();
  await expect(reader.getByTestId("revision-banner")).toContainText("SUPERSEDED");
  await expect(reader.getByTestId("revision-banner")).toContainText("Revision B is in force");
  await reader.goto(`/documents/${docId}`);
  await reader.getByRole("link", { name: "Print a copy" }).click();
  const printStamp = reader.getByTestId("print-stamp");
  await expect(printStamp).toContainText("Uncontrolled when printed");
  await expect(printStamp).toContainText(`Printed by ${DEMO.staff.name} (${DEMO.staff.username})`);
  await expect(reader.locator(".print-signatures tbody tr")).toHaveCount(2);
  await expect(reader.locator(".print-signatures")).toContainText("Aisha Rahman");
  await expect(reader.locator(".print-signatures")).toContainText(DEMO.qualityManager.name);
  await expect(reader.locator(".print-signatures")).toContainText("Approved");
  await reader.emulateMedia({ media: "print" });
  await expect(reader.locator(".nav")).toBeHidden();
  await expect(reader.locator(".print-foot")).toHaveText(`${doc.number} revision B · Uncontrolled when printed`);
  await shot(reader, "documents-print");

  // Staff are its readers: the inbox has the notice of B in force; opening it reads it.
  await reader.emulateMedia({ media: "screen" });
  const unread = reader.getByTestId("unread-count");
  await expect(unread).toBeVisible();
  const before = Number((await unread.innerText()).replace(/\D/g, ""));
  await reader.getByRole("link", { name: /^Inbox/ }).click();
  const notice = reader.getByTestId("notice").filter({ hasText: `${doc.number} ${title}: revision B in force` });
  await expect(notice).toHaveCount(1);
  await expect(notice).toContainText("Unread");
  await shot(reader, "documents-inbox");
  await notice.getByRole("link").click();
  await expect(reader.locator("main h1")).toContainText("revision B");
  await expect(unread).toHaveText(`${before - 1} unread`);
  await Promise.all([qm.close(), owner.close(), reviewer.close(), reader.close()]);
});
