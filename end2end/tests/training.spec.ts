import { expect, test, apiAs, pageAs, shot, DEMO, DEMO_PASSWORD, userId } from "./fixtures";
import type { APIRequestContext } from "@playwright/test";

test("a new revision reaches Lee's training; he reads, signs, fails the quiz once, passes; the matrix and the auditor see it", async ({ browser }) => {
  const qm = await apiAs(DEMO.qualityManager.username);
  const owner = await apiAs(DEMO.processOwner.username);
  const reviewer = await apiAs("aisha.rahman");
  const [ownerId, reviewerId, qmId, leeId] = await Promise.all([
    userId(qm, DEMO.processOwner.name), userId(qm, "Aisha Rahman"), userId(qm, DEMO.qualityManager.name), userId(qm, DEMO.staff.name),
  ]);
  const stamp = Date.now();
  const created = await qm.post("/api/v1/documents", {
    data: { doc_type: "sop", title: `Segregation of suspect parts ${stamp}`, owner_id: ownerId, reviewers: [reviewerId], approvers: [qmId], review_interval_months: 24, retention_years: 10 },
  });
  expect(created.status(), await created.text()).toBe(201);
  const doc = await created.json();

  // The requirement (a quiz on the document) is in the staff curriculum before any revision is
  // approved: nobody can train on it yet.
  const title = `Suspect parts quiz ${stamp}`;
  const req = await qm.post("/api/v1/training/requirements", {
    data: {
      title, kind: "quiz", document_id: doc.id, completion_days: 14,
      quiz: { pass_mark: 100, attempts_allowed: 3, questions: [
        { text: "Where do suspect parts go?", options: ["Back on the line", "The quarantine rack"], correct: [1] },
        { text: "What goes on the tag?", options: ["The reason", "The date", "The weather"], correct: [0, 1] },
      ] },
    },
  });
  expect(req.status(), await req.text()).toBe(201);
  const requirement = await req.json();
  const line = await qm.post("/api/v1/training/curriculum", { data: { requirement_id: requirement.id, role: "staff" } });
  expect(line.status(), await line.text()).toBe(201);

  // The quality manager watches the matrix, Lee's row.
  const matrix = await pageAs(browser, DEMO.qualityManager.username);
  await matrix.goto("/training/matrix");
  await matrix.getByPlaceholder("Name").fill("Lee");
  const cell = matrix.locator(`[data-person="${DEMO.staff.name}"] td[data-requirement="${requirement.id}"]`);
  await expect(cell).toHaveAttribute("data-status", "not_required");

  // Revision A is drafted, reviewed and approved (through the API): Lee is assigned it at once.
  const r = await owner.post(`/api/v1/documents/${doc.id}/revisions`, { data: { body: "Purpose\nKeep suspect parts apart.\nTag them with the reason and the date." } });
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
  await expect(cell).toHaveAttribute("data-status", "assigned");

  // Lee: My training lists it with why; he opens it and reads the revision.
  const lee = await pageAs(browser, DEMO.staff.username);
  await lee.goto("/training");
  const row = lee.getByTestId("assignment-row").filter({ hasText: title });
  await expect(row).toContainText(`${doc.number} revision A approved`);
  await expect(row).toContainText("Assigned");
  await shot(lee, "training-my-training");
  await row.getByRole("link", { name: title }).click();
  await expect(lee.locator(".doc-body")).toContainText("Keep suspect parts apart.");

  // He signs "read and understood" with his password.
  await lee.getByRole("button", { name: /Read and understood/ }).click();
  const dialog = lee.getByRole("dialog");
  const agreement = dialog.getByLabel("I accept the electronic-signature agreement");
  if (await agreement.isVisible()) await agreement.check();
  await dialog.getByLabel("Password").fill(DEMO_PASSWORD);
  await dialog.getByRole("button", { name: "Sign", exact: true }).click();

  // The quiz: the first attempt fails, the second passes.
  const quiz = lee.getByTestId("quiz");
  await expect(quiz.getByTestId("question")).toHaveCount(2);
  await expect(quiz).toContainText("Attempt 1 of 3");
  await quiz.getByLabel("Back on the line").check();
  await quiz.getByLabel("The weather").check();
  await quiz.getByRole("button", { name: "Submit answers" }).click();
  await expect(lee.getByTestId("quiz-result")).toContainText("Not passed: 0 %. 2 attempt(s) left.");
  await expect(quiz).toContainText("Attempt 2 of 3");
  await shot(lee, "training-quiz-failed-once");
  await quiz.getByLabel("The quarantine rack").check();
  await quiz.getByLabel("The reason").check();
  await quiz.getByLabel("The date").check();
  await quiz.getByRole("button", { name: "Submit answers" }).click();
  await expect(lee.getByTestId("certificate")).toContainText("Certificate of training");
  await expect(lee.getByTestId("certificate")).toContainText("100 %");
  await shot(lee, "training-certificate");
  await lee.close();

  // The quality manager's open matrix turned the cell without a reload.
  await expect(cell).toHaveAttribute("data-status", "completed");
  await shot(matrix, "training-matrix");
  await matrix.close();

  // The auditor's question for Lee today: yes, with the evidence.
  const auditor = await pageAs(browser, DEMO.auditor.username);
  await auditor.goto(`/training/trained-on?user=${leeId}&requirement=${requirement.id}`);
  const answer = auditor.getByTestId("answer");
  await expect(answer.locator(".answer-word")).toHaveText("Yes");
  await expect(answer).toContainText("Revision A was in force; trained on revision A");
  await expect(answer).toContainText("100 %");
  await expect(answer).toContainText("“Read and understood”, signature");
  await shot(auditor, "training-trained-on");
  await auditor.close();
  await Promise.all([qm.dispose(), owner.dispose(), reviewer.dispose()]);
});

test("the quality manager creates a requirement and adds it to a department's curriculum; its people are assigned at once", async ({ browser }) => {
  const qm = await pageAs(browser, DEMO.qualityManager.username);
  await qm.goto("/training");
  await qm.getByRole("link", { name: "Requirements and curricula" }).click();
  await expect(qm.getByRole("heading", { level: 1 })).toHaveText("Requirements and curricula");
  const title = `Forklift refresher ${Date.now()}`;

  // Bad input is named before anything is sent.
  await qm.getByText("New requirement").click();
  await qm.getByLabel("Days to complete").fill("0");
  await qm.getByRole("button", { name: "Create requirement" }).click();
  await expect(qm.getByRole("alert")).toContainText("title");
  await expect(qm.getByRole("alert")).toContainText("completion_days");

  await qm.getByLabel("Title").fill(title);
  await qm.getByLabel("How").selectOption("on_the_job");
  await qm.getByLabel("Days to complete").fill("30");
  await qm.getByLabel("Every (months)").fill("24");
  await qm.getByRole("button", { name: "Create requirement" }).click();
  await expect(qm.getByTestId("requirement-row").filter({ hasText: title })).toContainText("24 months");

  await qm.getByText("Add to a curriculum").click();
  await qm.getByRole("combobox", { name: /^Requirement/ }).selectOption({ label: title });
  await qm.getByLabel("Everyone").selectOption({ label: "in Maintenance" });
  await qm.getByRole("button", { name: "Add" }).click();
  await expect(qm.getByTestId("curriculum-row").filter({ hasText: title })).toContainText("in Maintenance");
  await shot(qm, "training-setup");
  await qm.close();

  // Dev Malhotra works in Maintenance: it is in his training now, with why.
  const dev = await apiAs("dev.malhotra");
  const mine = await (await dev.get("/api/v1/training/my")).json();
  const assigned = mine.items.find((a: { requirement_title: string }) => a.requirement_title === title);
  expect(assigned, "assigned to Dev").toBeTruthy();
  expect(assigned.cause).toBe("curriculum_changed");
  expect(assigned.cause_detail).toBe("Curriculum of Maintenance");
  await dev.dispose();
});
