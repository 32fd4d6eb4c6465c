import { expect, test, apiAs, pageAs, shot, signInWithForm, userId, DEMO, DEMO_PASSWORD } from "./fixtures";

// The trust core as people meet it: signing in by role, lockout, first sign-in with a
// temporary password, and electronic signatures with their manifestation (21 CFR Part 11).

// What each role finds in its menu: Admin only for roles that administer something.
const ROLES = [
  { key: "admin", label: "Administrator", admin: true, cards: ["Users", "Sessions", "Audit trail"], noCards: [] },
  { key: "qualityManager", label: "Quality manager", admin: true, cards: ["Processes", "Audit trail"], noCards: ["Users", "Sessions"] },
  { key: "processOwner", label: "Process owner", admin: true, cards: ["Processes"], noCards: ["Users", "Audit trail"] },
  { key: "auditor", label: "Auditor", admin: true, cards: ["Audit trail"], noCards: ["Users", "Sessions"] },
  { key: "staff", label: "Staff", admin: false, cards: [], noCards: [] },
  { key: "executive", label: "Executive", admin: false, cards: [], noCards: [] },
] as const;

test("each demo role signs in with the form and sees its own menu", async ({ browser }) => {
  test.slow(); // six sign-ins, each a deliberate argon2id hash
  for (const role of ROLES) {
    const user = DEMO[role.key];
    const page = await (await browser.newContext()).newPage();
    await page.goto("/");
    await expect(page.getByRole("heading", { name: "Sign in" })).toBeVisible();
    if (role.key === "admin") await shot(page, "10-sign-in");
    await signInWithForm(page, user.username);
    const who = page.getByTestId("signed-in-user");
    await expect(who).toContainText(user.name);
    await expect(who).toContainText(role.label);
    const nav = page.getByRole("navigation", { name: "Areas" });
    await expect(nav.getByRole("link", { name: "Dashboard", exact: true })).toBeVisible();
    await expect(nav.getByRole("link", { name: "Admin", exact: true })).toHaveCount(role.admin ? 1 : 0);
    if (role.admin) {
      await nav.getByRole("link", { name: "Admin", exact: true }).click();
      const main = page.locator("main");
      for (const card of role.cards) await expect(main.getByRole("link", { name: new RegExp(`^${card}`) })).toBeVisible();
      for (const card of role.noCards) await expect(main.getByRole("link", { name: new RegExp(`^${card}`) })).toHaveCount(0);
    }
    await shot(page, `11-menu-${role.key}`);
    // Signing out returns to the sign-in page, and the session is gone on the server.
    await who.getByRole("button", { name: "Sign out" }).click();
    await expect(page.getByRole("heading", { name: "Sign in" })).toBeVisible();
    expect((await page.request.get("/api/v1/session")).status()).toBe(401);
    await page.context().close();
  }
});

test("five wrong passwords lock the account, and then even the right one is refused", async ({ browser, request }) => {
  const username = `locked.${Date.now()}`;
  const created = await request.post("/api/v1/users", {
    data: { username, full_name: "Lock Tester", email: `${username}@example.com`, roles: ["staff"], password: "Initial-Pass-4417" },
  });
  expect(created.status()).toBe(201);
  const page = await (await browser.newContext()).newPage();
  await page.goto("/");
  // Every refusal reads the same (a locked account, a wrong password, an unknown username), and
  // names the lockout.
  for (let i = 1; i <= 5; i++) {
    await signInWithForm(page, username, `wrong-password-${i}`);
    await expect(page.getByRole("alert")).toContainText("Wrong username or password.");
  }
  await signInWithForm(page, username, "Initial-Pass-4417");
  await expect(page.getByRole("alert")).toContainText("After 5 failed sign-ins in a row an account is locked for 15 minutes");
  await shot(page, "12-locked");
  await expect(page.getByTestId("signed-in-user")).toHaveCount(0);

  // The administrator sees the attempts: the first in a line of its own, the ones after it from
  // the same address counted into one line per burst (2 s on the test server, a minute by
  // default), so six attempts make at least two lines whose attempts add up to six.
  const admin = await pageAs(browser, DEMO.admin.username);
  const rows = admin.getByRole("table", { name: "Failed sign-ins" }).getByRole("row").filter({ hasText: username });
  await expect(async () => {
    await admin.goto("/admin/security");
    await expect(rows.first()).toBeVisible({ timeout: 1000 });
    const attempts = await rows.evaluateAll((trs) =>
      trs.reduce((sum, tr) => sum + Number(tr.querySelectorAll("td")[3]?.textContent ?? 0), 0),
    );
    expect(attempts).toBe(6);
  }).toPass({ timeout: 20000 });
  expect(await rows.count()).toBeGreaterThanOrEqual(2);
  await expect(rows.last()).toContainText("wrong password");
  await expect(rows.filter({ hasText: "further failed sign-in" }).first()).toBeVisible();
  await shot(admin, "13-failed-sign-ins");
});

test("an admin creates a user, who must choose a new password at first sign-in", async ({ page, browser }) => {
  const username = `new.starter.${Date.now() % 100000}`;
  await page.goto("/admin/users/new");
  await page.getByLabel("Username").fill(username);
  await page.getByLabel("Full name").fill("Nina Starter");
  await page.getByLabel("E-mail").fill(`${username}@example.com`);
  await page.getByLabel("Staff").check();
  // The shared password policy runs in the browser.
  await page.getByLabel("Initial password").fill("password1234");
  await page.getByRole("button", { name: "Create user" }).click();
  await expect(page.locator('.field-error[data-field="password"]')).toHaveText("This password is too common; choose another.");
  await page.getByLabel("Initial password").fill("First-Day-Pass-2026");
  await page.getByRole("button", { name: "Create user" }).click();
  await expect(page).toHaveURL(/\/admin\/users\/\d+$/);
  await shot(page, "14-user-created");

  const nina = await (await browser.newContext()).newPage();
  await nina.goto("/");
  await signInWithForm(nina, username, "First-Day-Pass-2026");
  await expect(nina.getByRole("heading", { name: "Choose a new password" })).toBeVisible();
  await nina.getByLabel("Current password").fill("First-Day-Pass-2026");
  await nina.getByLabel("New password").fill("Nina-Own-Secret-88");
  await nina.getByLabel("Confirm password").fill("Nina-Own-Secret-88");
  await nina.getByRole("button", { name: "Change password" }).click();
  await expect(nina.getByTestId("signed-in-user")).toContainText("Nina Starter");
});

test("signing: a wrong password signs nothing; the right one shows the manifestation, which an edit supersedes", async ({ browser, request }) => {
  const { items } = await (await request.get("/api/v1/departments")).json();
  const created = await request.post("/api/v1/processes", {
    data: { name: `Laser marking ${Date.now()}`, owner_id: await userId(request, "Tom Okafor"), department_id: items[0].id },
  });
  expect(created.status()).toBe(201);
  const process = await created.json();
  const signatures = async () =>
    (await (await request.get(`/api/v1/signatures?record_type=process&record_id=${process.id}`)).json()).items;

  const qm = await pageAs(browser, DEMO.qualityManager.username);
  await qm.goto(`/admin/processes/${process.id}`);
  const approval = qm.locator("section").filter({ has: qm.getByRole("heading", { name: "Owner assignment approval" }) });
  await expect(approval.getByTestId("signature-status")).toHaveText("Awaiting approval");
  await approval.getByRole("button", { name: "Sign…" }).click();
  const dialog = qm.getByRole("dialog");
  await expect(dialog.getByRole("heading", { name: "Sign: Approved" })).toBeVisible();
  const agreement = dialog.getByLabel("I accept the electronic-signature agreement");
  if (await agreement.count()) await agreement.check();
  // The session's first signature: the username typed too (11.200(a)(1)(i)).
  await dialog.getByLabel("Username").fill(DEMO.qualityManager.username);
  await dialog.getByLabel("Password").fill("not-my-password");
  await dialog.getByRole("button", { name: "Sign", exact: true }).click();
  await expect(dialog.locator(".alert")).toHaveText("The password is not correct; nothing was signed.");
  await shot(qm, "15-sign-wrong-password");
  expect(await signatures()).toHaveLength(0);

  await dialog.getByLabel("Password").fill(DEMO_PASSWORD);
  await dialog.getByRole("button", { name: "Sign", exact: true }).click();
  await expect(dialog).toHaveCount(0);
  const manifestation = approval.locator(".signature");
  await expect(manifestation).toContainText("Priya Natarajan");
  await expect(manifestation).toContainText("Approved");
  await expect(manifestation).toContainText("UTC");
  await expect(approval.getByTestId("signature-status")).toHaveCount(0);
  await shot(qm, "16-signed");
  const [signed] = await signatures();
  expect([signed.signer_name, signed.meaning, signed.record_version, signed.superseded]).toEqual(["Priya Natarajan", "approved", 1, false]);

  // An edit after signing supersedes the signature, visibly.
  await qm.getByLabel("Description").fill("Fibre laser, marking depth 0.02 mm");
  await qm.getByLabel("Reason for change").fill("Laser replaced");
  await qm.getByRole("button", { name: "Save" }).click();
  await expect(qm.getByRole("status").filter({ hasText: "Saved." })).toBeVisible();
  await expect(manifestation).toContainText("Superseded");
  await expect(approval.getByTestId("signature-status")).toHaveText("Awaiting approval");
  await shot(qm, "17-superseded");

  // The audit trail holds the signature, attributed to the signer.
  const auditor = await apiAs(DEMO.auditor.username);
  const trail = await (await auditor.get(`/api/v1/audit?record_type=process&record_id=${process.id}`)).json();
  const sign = trail.items.find((e: { action: string }) => e.action === "sign");
  expect([sign.actor_name, sign.changes.signature_meaning.new]).toEqual(["Priya Natarajan", "approved"]);
});

test("a revoked session sends the person back to sign in, saying why", async ({ browser, page }) => {
  const lee = await pageAs(browser, DEMO.staff.username);
  await lee.goto("/admin/processes");
  await expect(lee.getByTestId("signed-in-user")).toContainText(DEMO.staff.name);

  // The administrator ends Lee's session from the sessions page.
  await page.goto("/admin/sessions");
  const row = page.getByRole("table", { name: "Sessions" }).getByRole("row").filter({ hasText: DEMO.staff.name }).first();
  await row.getByRole("button", { name: "Revoke" }).click();
  await expect(page.getByRole("status")).toContainText(`The session of ${DEMO.staff.name} has ended.`);
  await shot(page, "18-sessions");

  // Lee's next request finds the session gone: the sign-in page says so.
  // A click, not check(): the page it is on goes away when the 401 arrives.
  await lee.getByLabel("Show retired").click();
  await expect(lee.getByRole("heading", { name: "Sign in" })).toBeVisible();
  await expect(lee.getByRole("status")).toHaveText("Your session has ended; sign in again.");
  await shot(lee, "19-session-ended");
  await signInWithForm(lee, DEMO.staff.username);
  await expect(lee.getByTestId("signed-in-user")).toContainText(DEMO.staff.name);
});

test("an administrator cannot change their own roles, and is told why", async ({ browser, request }) => {
  const page = await pageAs(browser, DEMO.admin.username);
  const id = await userId(request, DEMO.admin.name);
  await page.goto(`/admin/users/${id}`);
  const roles = page.getByRole("group", { name: "Roles" });
  await expect(roles).toBeVisible();
  await expect(page.getByText("You cannot change your own roles: ask another administrator.")).toBeVisible();
  const admin = roles.getByRole("checkbox", { name: "Administrator" });
  await expect(admin).toBeChecked();
  await expect(admin).toBeDisabled();
  await shot(page, "15-own-roles");
  await page.context().close();
});
