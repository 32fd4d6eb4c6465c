import { expect, test, apiAs, pageAs, shot, DEMO, DEMO_PASSWORD, userId } from "./fixtures";
import type { APIRequestContext, Locator } from "@playwright/test";

/** Chooses the option of `select` whose text contains `text`. */
async function selectByText(select: Locator, text: string) {
  const value = await select.locator("option", { hasText: text }).first().getAttribute("value");
  expect(value, `an option with "${text}"`).toBeTruthy();
  await select.selectOption(value ?? "");
}

test("Lee raises an NC from the shop floor; the quality manager dispositions it, says a CAPA is needed and opens one; a complaint is linked to it", async ({ browser }) => {
  const stamp = Date.now();
  const lee = await pageAs(browser, DEMO.staff.username);
  await lee.goto("/quality/ncs/new");
  await expect(lee.getByRole("heading", { level: 1 })).toHaveText("Raise a nonconformance");
  // The shared rules answer in the browser before anything is sent.
  await lee.getByRole("button", { name: "Raise the nonconformance" }).click();
  await expect(lee.locator('[data-field="description"]')).toHaveText("This field is required.");
  await expect(lee.locator('[data-field="category_id"]')).toHaveText("This field is required.");
  await lee.getByLabel("Category").selectOption({ label: "Dimensional" });
  await lee.getByLabel("Process").selectOption({ label: "Final assembly" });
  await lee.getByLabel("Product or part number").fill("GB-200 cover C-31");
  await lee.getByLabel("Units affected").fill("4");
  const description = `Cover bolt holes misaligned on 4 covers, bolts cross-threaded ${stamp}`;
  await lee.getByLabel("What is wrong").fill(description);
  await lee.getByLabel("Containment done at once").fill("Covers tagged red and moved to the quarantine rack");
  await lee.getByLabel("Scrap").fill("120.50");
  await lee.getByRole("button", { name: "Raise the nonconformance" }).click();
  await expect(lee.getByRole("heading", { level: 1 })).toContainText("NC-");
  await expect(lee.locator(".facts")).toContainText("120.50");
  // Staff do not decide dispositions.
  await expect(lee.getByRole("form", { name: "Disposition" })).toHaveCount(0);
  const ncUrl = lee.url();
  const ncNumber = (await lee.getByRole("heading", { level: 1 }).innerText()).split(" ·")[0];
  await shot(lee, "quality-nc-raised");
  await lee.context().close();

  const qm = await pageAs(browser, DEMO.qualityManager.username);
  await qm.goto(ncUrl);
  const disposition = qm.getByRole("form", { name: "Disposition" });
  await disposition.getByRole("combobox", { name: "Disposition", exact: true }).selectOption("scrap");
  await disposition.getByRole("button", { name: "Record the disposition" }).click();
  await expect(qm.getByTestId("disposition")).toContainText("Scrap");
  const evaluation = qm.getByRole("form", { name: "Evaluation" });
  // Closing before the evaluation is refused, by name.
  await qm.getByRole("button", { name: "Close the nonconformance" }).click();
  await expect(qm.getByTestId("step-outcome")).toContainText("Evaluate the nonconformance");
  await evaluation.getByLabel("Yes").check();
  await evaluation.getByLabel("Rationale").fill("Second misalignment this month on covers");
  await evaluation.getByRole("button", { name: "Record the evaluation" }).click();
  await expect(qm.getByTestId("evaluation")).toContainText("CAPA needed");
  await qm.getByRole("button", { name: "Open a CAPA for it" }).click();
  const capaLink = qm.locator(".facts").getByRole("link", { name: /CAPA-/ });
  await expect(capaLink).toBeVisible();
  await shot(qm, "quality-nc-evaluated");
  await capaLink.click();
  await expect(qm.getByRole("heading", { level: 1 })).toContainText(ncNumber);
  await expect(qm.locator(".stepper [aria-current=step]")).toHaveText("Draft");

  // A customer's complaint, logged and linked to the NC.
  await qm.goto("/quality/complaints/new");
  await qm.getByRole("textbox", { name: "Customer", exact: true }).fill(`Hansen Conveyors ${stamp}`);
  await qm.getByRole("textbox", { name: "Product", exact: true }).fill("GB-200");
  await qm.getByLabel("What the customer reports").fill("Cover bolts came loose after a week");
  await qm.getByRole("button", { name: "Log the complaint" }).click();
  await expect(qm.getByRole("heading", { level: 1 })).toContainText("CMP-");
  await selectByText(qm.getByLabel("Open nonconformance"), ncNumber);
  await qm.getByRole("group", { name: "Link a nonconformance" }).getByRole("button", { name: "Link" }).click();
  await expect(qm.getByTestId("links")).toContainText(ncNumber);
  await shot(qm, "quality-complaint-linked");
  await qm.goto(ncUrl);
  await expect(qm.locator(".facts")).toContainText("CMP-");
  await qm.context().close();
});

/** A CAPA in investigation owned by Tom, verified by Aisha; and a draft revision of a new SOP. */
async function capaWithDraftRevision(stamp: number) {
  const qm = await apiAs(DEMO.qualityManager.username);
  const tom = await apiAs(DEMO.processOwner.username);
  const aisha = await apiAs("aisha.rahman");
  const [tomId, aishaId, qmId] = await Promise.all([userId(qm, DEMO.processOwner.name), userId(qm, "Aisha Rahman"), userId(qm, DEMO.qualityManager.name)]);
  const created = await qm.post("/api/v1/capas", {
    data: { title: `Oversize bores on H-200 ${stamp}`, kind: "corrective", problem: "Bores of H-200 housings 0.04 mm oversize after insert changes on the second shift" },
  });
  expect(created.status(), await created.text()).toBe(201);
  const capa = await created.json();
  const submit = await qm.post(`/api/v1/capas/${capa.id}/steps`, { data: { step: "submit", version: 1 } });
  expect(submit.status(), await submit.text()).toBe(200);
  const due = new Date(Date.now() + 30 * 86400000).toISOString().slice(0, 10);
  const triage = await qm.post(`/api/v1/capas/${capa.id}/steps`, {
    data: { step: "triage", severity: 4, likelihood: 3, owner_id: tomId, verifier_id: aishaId, due_on: due, version: 2 },
  });
  expect(triage.status(), await triage.text()).toBe(200);
  const doc = await (await qm.post("/api/v1/documents", {
    data: { doc_type: "work_instruction", title: `Insert change on L3 ${stamp}`, owner_id: tomId, reviewers: [aishaId], approvers: [qmId], review_interval_months: 24, retention_years: 10 },
  })).json();
  const r = await tom.post(`/api/v1/documents/${doc.id}/revisions`, { data: { body: "After every insert change, update the tool offset and measure the first bore." } });
  expect(r.status(), await r.text()).toBe(201);
  return { capa, doc, rev: await r.json(), qm, tom, aisha };
}

/** Submits, reviews and approves a revision: it is effective at once. */
async function approveRevision(rev: { id: number; version: number; content_version: number }, tom: APIRequestContext, aisha: APIRequestContext, qm: APIRequestContext) {
  const moved = await tom.post(`/api/v1/document-revisions/${rev.id}/move`, { data: { action: "submit", version: rev.version } });
  expect(moved.status(), await moved.text()).toBe(200);
  const signers = [[aisha, "reviewed", "aisha.rahman"], [qm, "approved", DEMO.qualityManager.username]] as [APIRequestContext, string, string][];
  for (const [client, meaning, username] of signers) {
    const s = await client.post("/api/v1/signatures", {
      data: { record_type: "document_revision", record_id: rev.id, record_version: rev.content_version, meaning, password: DEMO_PASSWORD, accept_agreement: true, username },
    });
    expect(s.status(), await s.text()).toBe(201);
  }
}

test("the owner investigates with 5 whys and suggestions; the plan is signed; a draft revision holds verification; the verifier finds it ineffective and it reopens", async ({ browser }) => {
  const stamp = Date.now();
  const { capa, doc, rev, qm, tom: tomApi, aisha: aishaApi } = await capaWithDraftRevision(stamp);
  const url = `/quality/capas/${capa.id}`;

  // Tom, the owner: 5 whys, the model's suggestions (not filled in), a confirmed cause, the plan.
  const tom = await pageAs(browser, DEMO.processOwner.username);
  await tom.goto(url);
  await expect(tom.locator(".stepper [aria-current=step]")).toHaveText("Investigation");
  await tom.getByLabel("Why 1").fill("The tool offset was not updated after the insert change");
  await tom.getByRole("button", { name: "Ask why again" }).click();
  await tom.getByLabel("Why 2").fill("The work instruction does not ask for it and the night shift relies on memory");
  await tom.getByRole("button", { name: "Suggest root causes" }).click();
  await expect(tom.getByTestId("suggested-category")).toHaveCount(3);
  await expect(tom.getByTestId("similar-record").first()).toBeVisible();
  // Suggestions are never filled in: there is still no cause.
  await expect(tom.getByTestId("cause-row")).toHaveCount(0);
  await shot(tom, "quality-capa-suggestions");
  await tom.getByRole("button", { name: "Add a cause" }).click();
  await tom.getByLabel("Category of cause 1").selectOption("method");
  await tom.getByLabel("Cause 1", { exact: true }).fill("Offset update missing from the work instruction");
  await tom.getByLabel("Cause 1 confirmed").check();
  await tom.getByLabel("Evidence for cause 1").fill(`${doc.number} has no offset step; shift log shows no update`);
  await tom.getByRole("button", { name: "Save the investigation" }).click();
  await expect(tom.getByTestId("step-outcome")).toContainText("Investigation saved.");
  const add = tom.getByRole("form", { name: "Add an action" });
  await add.getByRole("textbox", { name: "Action", exact: true }).fill("Add the offset step to the work instruction");
  await add.getByLabel("Kind").selectOption("document_revision");
  await selectByText(add.getByLabel("Document revision"), doc.number);
  await add.getByLabel("Owner").selectOption({ label: DEMO.processOwner.name });
  await add.getByLabel("Due").fill(new Date(Date.now() + 14 * 86400000).toISOString().slice(0, 10));
  await add.getByRole("button", { name: "Add the action" }).click();
  await expect(tom.getByTestId("action-row")).toContainText(doc.number);
  await tom.getByRole("button", { name: "Submit the plan for approval" }).click();
  await expect(tom.locator(".stepper [aria-current=step]")).toHaveText("Action plan");

  // The quality manager signs the plan with the password.
  const priya = await pageAs(browser, DEMO.qualityManager.username);
  await priya.goto(url);
  await priya.getByTestId("plan-approval").getByRole("button", { name: "Sign…" }).click();
  const dialog = priya.getByRole("dialog");
  const agreement = dialog.getByLabel("I accept the electronic-signature agreement");
  if (await agreement.count()) await agreement.check();
  await dialog.getByLabel("Username").fill(DEMO.qualityManager.username);
  await dialog.getByLabel("Password").fill(DEMO_PASSWORD);
  await dialog.getByRole("button", { name: "Sign" }).click();
  await expect(priya.locator(".stepper [aria-current=step]")).toHaveText("Implementation");
  await expect(priya.getByTestId("plan-approval")).toContainText("Priya Natarajan");
  await priya.context().close();

  // The draft revision holds verification, and the page says which.
  await tom.reload();
  await expect(tom.getByTestId("open-work")).toContainText(doc.number);
  await tom.getByRole("button", { name: "Implementation complete" }).click();
  await expect(tom.getByTestId("step-outcome")).toContainText(`${doc.number}`);
  await expect(tom.locator(".stepper [aria-current=step]")).toHaveText("Implementation");
  await shot(tom, "quality-capa-waiting-on-revision");
  // Once the revision is effective, the gate opens.
  await approveRevision(rev, tomApi, aishaApi, qm);
  await tom.reload();
  await expect(tom.getByTestId("open-work")).toHaveCount(0);
  await tom.getByRole("button", { name: "Implementation complete" }).click();
  await expect(tom.locator(".stepper [aria-current=step]")).toHaveText("Verification");
  // The owner is not offered verification.
  await expect(tom.getByRole("group", { name: "Verification" })).toHaveCount(0);
  await tom.context().close();

  // Aisha, the verifier: verified today; the check finds the problem again: reopened.
  const aisha = await pageAs(browser, "aisha.rahman");
  await aisha.goto(url);
  const verify = aisha.getByRole("group", { name: "Verification" });
  await verify.getByLabel("What you checked").fill("Revision in force, offsets updated on the last 10 changes");
  await verify.getByRole("button", { name: "Verified" }).click();
  await expect(aisha.locator(".stepper [aria-current=step]")).toHaveText("Effectiveness check");
  const check = aisha.getByRole("group", { name: "Effectiveness check" });
  await check.getByLabel("Result").selectOption("ineffective");
  await check.getByLabel("Evidence").fill("Two oversize bores again in lot L-2417");
  await check.getByRole("button", { name: "Record the check" }).click();
  await expect(aisha.locator(".stepper [aria-current=step]")).toHaveText("Investigation");
  await expect(aisha.getByTestId("reopened")).toContainText("1 time");
  await expect(aisha.getByTestId("effectiveness-check")).toContainText("Ineffective");
  await shot(aisha, "quality-capa-reopened");
  await aisha.context().close();
});

test("the CAPA register shows the metrics and the 8D report prints the same CAPA", async ({ page }) => {
  await page.goto("/quality/capas");
  await expect(page.getByTestId("capa-metrics")).toContainText("days");
  const row = page.getByTestId("capa-row").first();
  await row.getByRole("link").click();
  await page.getByRole("link", { name: "8D report" }).click();
  await expect(page.getByTestId("eight-d")).toHaveCount(9);
  await expect(page.getByTestId("eight-d").nth(4)).toContainText("D4 Root cause");
  await shot(page, "quality-8d");
  await page.goto("/quality/ncs");
  await expect(page.getByTestId("pareto-row").first()).toBeAttached();
  await expect(page.getByTestId("nc-row").first()).toBeVisible();
  await shot(page, "quality-nc-register");
});
