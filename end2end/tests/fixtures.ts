import { expect, request as playwrightRequest, test as base, type APIRequestContext, type Page, type Browser } from "@playwright/test";

// Every demo user's password (server/src/seed.rs, DEMO_PASSWORD).
export const DEMO_PASSWORD = "Caliper-Demo-2026";

// One demo user per role (server/src/seed.rs, DEMO_USERS).
export const DEMO = {
  admin: { username: "alex.morgan", name: "Alex Morgan" },
  qualityManager: { username: "priya.natarajan", name: "Priya Natarajan" },
  processOwner: { username: "tom.okafor", name: "Tom Okafor" },
  auditor: { username: "sam.reid", name: "Sam Reid" },
  staff: { username: "lee.chen", name: "Lee Chen" },
  executive: { username: "eva.lindqvist", name: "Eva Lindqvist" },
} as const;

export const shot = (page: Page, name: string) => page.screenshot({ path: `screenshots/${name}.png`, fullPage: true });

/** An API client signed in as `username`: it keeps the session cookie and sends the CSRF token. */
export async function apiAs(username: string, password = DEMO_PASSWORD): Promise<APIRequestContext> {
  const baseURL = process.env.CALIPER_BASE_URL;
  const anonymous = await playwrightRequest.newContext({ baseURL });
  const res = await anonymous.post("/api/v1/session", { data: { username, password } });
  expect(res.status(), `sign-in as ${username}`).toBe(200);
  const { csrf_token } = await res.json();
  const state = await anonymous.storageState();
  await anonymous.dispose();
  return playwrightRequest.newContext({ baseURL, storageState: state, extraHTTPHeaders: { "X-CSRF-Token": csrf_token } });
}

/** Signs `page`'s browser context in as `username` through the API (the cookie is shared). */
export async function signInPage(page: Page, username: string, password = DEMO_PASSWORD) {
  const res = await page.request.post("/api/v1/session", { data: { username, password } });
  expect(res.status(), `sign-in as ${username}`).toBe(200);
}

/** A new browser page, signed in as `username`. */
export async function pageAs(browser: Browser, username: string): Promise<Page> {
  const page = await (await browser.newContext()).newPage();
  await signInPage(page, username);
  return page;
}

/** Signs in through the sign-in form, as a person does; waits for the server's answer. */
export async function signInWithForm(page: Page, username: string, password = DEMO_PASSWORD) {
  await page.getByLabel("Username").fill(username);
  await page.getByLabel("Password", { exact: true }).fill(password);
  const answered = page.waitForResponse((r) => r.url().endsWith("/api/v1/session") && r.request().method() === "POST");
  await page.getByRole("button", { name: "Sign in" }).click();
  await answered;
}

/** The user id of a demo user, by printed name. */
export async function userId(request: APIRequestContext, fullName: string): Promise<number> {
  const res = await request.get("/api/v1/users/directory");
  expect(res.ok()).toBeTruthy();
  const user = (await res.json()).items.find((u: { full_name: string }) => u.full_name === fullName);
  expect(user, `user ${fullName}`).toBeTruthy();
  return user.id;
}

// `page` is signed in as the administrator and `request` is an API client signed in as the
// administrator, unless a test signs in as someone else.
export const test = base.extend<{ request: APIRequestContext }>({
  page: async ({ page }, use) => {
    await signInPage(page, DEMO.admin.username);
    await use(page);
  },
  request: async ({}, use) => {
    const api = await apiAs(DEMO.admin.username);
    await use(api);
    await api.dispose();
  },
});

export { expect };
