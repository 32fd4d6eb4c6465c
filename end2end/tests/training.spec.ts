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
  await matrix.getByLabel("Requirement").selectOption(String(requirement.id));
  const cell = matrix.locator(`[data-person="${DEMO.staff.name}"] [data-requirement="${requirement.id}"]`);
  await expect(cell).toHaveAttribute("data-status", "not_required");

  // Revision A is drafted, reviewed and approved (through the API): Lee is assigned it at once.
  const r = await owner.post(`/api/v1/documents/${doc.id}/revisions`, { data: { body: "Purpose\nKeep suspect parts apart.\nTag them with the reason and the date." } });
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
  await dialog.getByLabel("Username").fill(DEMO.staff.username);
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

test("the quality manager writes a quiz in the app: each mistake is named by question and option, the saved quiz has its key", async ({ browser }) => {
  const qm = await pageAs(browser, DEMO.qualityManager.username);
  await qm.goto("/training/setup");
  const title = `Torque tool quiz ${Date.now()}`;
  await qm.getByText("New requirement").click();
  await qm.getByLabel("Title").fill(title);
  await qm.getByLabel("How").selectOption("quiz");
  await qm.getByLabel("Pass mark (%)").fill("75");
  const questions = qm.getByTestId("question-draft");
  await expect(questions).toHaveCount(1);
  await questions.nth(0).getByLabel("Question 1", { exact: true }).fill("What does a click-type wrench do at its setting?");
  await questions.nth(0).getByPlaceholder("Option 1").fill("It clicks and releases");
  await questions.nth(0).getByPlaceholder("Option 2").fill("It keeps tightening");
  await questions.nth(0).getByLabel("Right: option 1").check();
  await qm.getByRole("button", { name: "Add a question" }).click();
  await questions.nth(1).getByLabel("Question 2", { exact: true }).fill("When is the wrench calibrated?");
  await questions.nth(1).getByPlaceholder("Option 1").fill("Every 12 months");
  await questions.nth(1).getByPlaceholder("Option 2").fill("Never");
  await questions.nth(1).getByRole("button", { name: "Add an option" }).click();
  await questions.nth(1).getByPlaceholder("Option 3").fill("After a drop");

  // No right answer ticked on question 2: named before anything is sent.
  await qm.getByRole("button", { name: "Create requirement" }).click();
  await expect(qm.getByRole("alert")).toContainText("Question 2, the right answers");
  await shot(qm, "training-quiz-editor-error");
  await questions.nth(1).getByLabel("Right: option 1").check();
  await questions.nth(1).getByLabel("Right: option 3").check();
  await qm.getByRole("button", { name: "Create requirement" }).click();
  await expect(qm.getByTestId("requirement-row").filter({ hasText: title })).toContainText("2 questions, pass 75 %");
  await qm.close();

  // The saved quiz is the one written: its key, as the quality manager sees it.
  const api = await apiAs(DEMO.qualityManager.username);
  const list = await (await api.get("/api/v1/training/requirements")).json();
  const saved = list.items.find((r: { title: string }) => r.title === title);
  expect(saved.kind).toBe("quiz");
  expect(saved.questions).toBe(2);
  expect(saved.pass_mark).toBe(75);
  await api.dispose();
});

test("the matrix by keyboard: the quality manager opens Lee's cell, exempts him with a reason, then revokes it; the cell follows", async ({ browser }) => {
  const api = await apiAs(DEMO.qualityManager.username);
  const leeId = await userId(api, DEMO.staff.name);
  const title = `Visitor escort briefing ${Date.now()}`;
  const req = await api.post("/api/v1/training/requirements", { data: { title, kind: "classroom", completion_days: 30 } });
  expect(req.status(), await req.text()).toBe(201);
  const requirement = await req.json();
  const line = await api.post("/api/v1/training/curriculum", { data: { requirement_id: requirement.id, role: "staff" } });
  expect(line.status(), await line.text()).toBe(201);

  const qm = await pageAs(browser, DEMO.qualityManager.username);
  await qm.goto("/training/matrix");
  await qm.getByPlaceholder("Name").fill(DEMO.staff.name);
  await qm.getByLabel("Requirement").selectOption(String(requirement.id));
  const cell = qm.locator(`[data-person="${DEMO.staff.name}"] [data-requirement="${requirement.id}"]`);
  await expect(cell).toHaveAttribute("data-status", "assigned");

  // The grid holds the focus; Enter opens the active cell.
  const grid = qm.getByRole("grid", { name: "Training matrix" });
  await grid.focus();
  await expect(grid).toHaveAttribute("aria-activedescendant", "mx-0-0");
  await qm.keyboard.press("Enter");
  const panel = qm.getByRole("dialog", { name: `${DEMO.staff.name} — ${title}` });
  await expect(panel).toContainText("Curriculum of");

  // No reason: named, nothing sent.
  await panel.getByRole("button", { name: "Grant the exemption" }).click();
  await expect(panel.getByRole("alert")).toContainText("reason");
  await panel.getByLabel("Reason for the exemption").fill("Works nights; never escorts visitors.");
  await panel.getByRole("button", { name: "Grant the exemption" }).click();
  await expect(panel.getByTestId("exemption")).toContainText("Works nights; never escorts visitors.");
  await expect(cell).toHaveAttribute("data-status", "exempt");
  await shot(qm, "training-matrix-exemption");

  // Revoked with a reason: he is assigned it again.
  await panel.getByLabel("Why revoke it").fill("Now escorts visitors on Saturdays.");
  await panel.getByRole("button", { name: "Revoke the exemption" }).click();
  await expect(cell).toHaveAttribute("data-status", "assigned");
  await qm.keyboard.press("Escape");
  await expect(panel).toBeHidden();
  await qm.close();

  const mine = await (await api.get(`/api/v1/training/assignments?user_id=${leeId}`)).json();
  const causes = mine.items.filter((a: { requirement_id: number }) => a.requirement_id === requirement.id).map((a: { cause: string; state: string }) => `${a.cause}:${a.state}`);
  expect(causes.sort()).toEqual(["curriculum_changed:cancelled", "exemption_ended:open"]);
  await api.dispose();
});

test("a qualified trainer records a classroom session: the attendance list completes each attendee's assignment with the trainer's name", async ({ browser }) => {
  const api = await apiAs(DEMO.qualityManager.username);
  const requirements = (await (await api.get("/api/v1/training/requirements")).json()).items;
  const gowning = requirements.find((r: { title: string }) => r.title === "Cleanroom gowning, classroom session");
  const open = (await (await api.get("/api/v1/training/assignments?open=true")).json()).items
    .filter((a: { requirement_id: number }) => a.requirement_id === gowning.id);
  expect(open.length, "the demo leaves people to train in the cleanroom").toBeGreaterThanOrEqual(1);
  const attendee = open[0];

  const trainer = await pageAs(browser, DEMO.qualityManager.username);
  await trainer.goto("/training");
  await trainer.getByRole("link", { name: "Classroom sessions" }).click();
  await expect(trainer.getByRole("heading", { level: 1 })).toHaveText("Classroom sessions");
  const form = trainer.getByRole("form", { name: "Record a session" });
  await form.getByLabel("Requirement").selectOption({ label: gowning.title });
  // Nobody ticked: named before anything is sent.
  await form.getByRole("button", { name: "Record the session" }).click();
  await expect(form.getByRole("alert")).toContainText("attendee_ids");
  await form.getByLabel(attendee.user_name).check();
  await form.getByLabel("Notes").fill("Gowning sequence, glove checks, airlock discipline.");
  await form.getByRole("button", { name: "Record the session" }).click();
  await expect(form.getByRole("status")).toContainText("1 attendee(s) trained");
  const row = trainer.getByTestId("session-row").filter({ hasText: gowning.title }).first();
  await expect(row).toContainText(attendee.user_name);
  await expect(row).toContainText(DEMO.qualityManager.name);
  await shot(trainer, "training-classroom-session");
  await trainer.close();

  const done = await (await api.get(`/api/v1/training/records?user_id=${attendee.user_id}&requirement_id=${gowning.id}`)).json();
  expect(done.items[0].trainer_name).toBe(DEMO.qualityManager.name);
  await api.dispose();
});
