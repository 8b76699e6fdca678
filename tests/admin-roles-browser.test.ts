/**
 * The admin UI shows no control a role cannot use (issue 25), in a real browser (Debian's
 * chromium): signed in with a viewer's token, a sale's page has no action at all, the header no
 * "New sale", and the new and edit pages say the role cannot save instead of giving a form; with
 * an operator's, a sale not yet started offers edit and pause but not delete (an admin's,
 * route-roles.ts), a started one pause and end but no edit (only an admin changes a started
 * sale), and its pause works; an admin sees every action, edit of a started sale too.
 */
import type { Page } from "playwright-core";
import { TestStack } from "./support/test-stack";
import { useStack } from "./support/use-stack";
import type { ServedApp } from "./support/admin-app";
import { Browser, adminLogin } from "./support/browser";
import { adminCall, TEST_ADMIN_TOKEN } from "./support/control-plane";

jest.setTimeout(60_000);

const HOUR = 3600_000;

let server: ServedApp;
let browser: Browser;
let page: Page;

async function mint(name: string, role: string): Promise<string> {
  const res = await adminCall(server.url, "POST", "/admin/api/tokens", { name, role });
  if (res.status !== 201) throw new Error(`mint failed: ${res.status} ${JSON.stringify(res.body)}`);
  return res.body.token;
}

async function createSale(id: string, startsInMs: number): Promise<void> {
  const now = Date.now();
  const sale = { id, name: `Lamp ${id}`, price: 100, stock: 10, startsAt: new Date(now + startsInMs).toISOString(), endsAt: new Date(now + 2 * HOUR).toISOString(), deduction: "order" };
  const res = await adminCall(server.url, "POST", "/admin/api/sales", sale);
  if (res.status !== 201) throw new Error(`create failed: ${res.status} ${JSON.stringify(res.body)}`);
}

const stack = useStack(new TestStack({ name: "admin_roles_browser", gateway: false, controlPlane: false }), async () => {
  server = await stack.serveAdminApp();
  await createSale("upcoming", HOUR);
  await createSale("running", -60_000);
  browser = await Browser.launch({ closedWith: stack });
  page = await browser.newPage();
});

async function signInWith(token: string): Promise<void> {
  await browser.context.clearCookies();
  await adminLogin(page, server.url, token);
}

/** The ids of the actions shown. */
async function shownActions(): Promise<string[]> {
  return Promise.all((await page.locator("#actions [id^=action-]").all()).map(async (a) => (await a.getAttribute("id"))!));
}

/** A sale page's actions once its header is drawn (the Orders link comes with them). */
async function actionsOf(saleId: string): Promise<string[]> {
  await page.goto(`${server.url}/admin/sales/${saleId}`);
  await page.locator("#orders-link").waitFor();
  return shownActions();
}

/** What the sale form's page shows: the form, or the refusal's text. */
async function formPage(path: string): Promise<string> {
  await page.goto(`${server.url}/admin${path}`);
  const shown = page.locator("#sale-form, #form-refused");
  await shown.first().waitFor();
  return (await page.locator("#form-refused").count()) > 0 ? page.locator("#form-refused").innerText() : "form";
}

function headerLinks(): Promise<string[]> {
  return page.locator("header nav a").allInnerTexts();
}

describe("a viewer", () => {
  it("sees no action on a sale, no New sale, and no form to save", async () => {
    await signInWith(await mint("on-call", "viewer"));
    expect(await page.locator("#whoami").innerText()).toBe("token:on-call · viewer");
    expect(await headerLinks()).toEqual(["Sales", "Tokens"]);
    expect(await actionsOf("upcoming")).toEqual([]);
    expect(await actionsOf("running")).toEqual([]);
    expect(await formPage("/sales/upcoming/edit")).toBe("Your role (viewer) cannot change sales.");
    expect(await formPage("/sales/new")).toBe("Your role (viewer) cannot create sales.");
    expect(browser.consoleErrors).toEqual([]);
  });
});

describe("an operator", () => {
  it("sees edit and pause of a sale not yet started, pause and end of a started one, and no admin's action", async () => {
    await signInWith(await mint("shift-lead", "operator"));
    expect(await headerLinks()).toEqual(["Sales", "New sale", "Tokens", "Webhooks"]);
    expect(await actionsOf("upcoming")).toEqual(["action-edit", "action-pause"]);
    expect(await formPage("/sales/upcoming/edit")).toBe("form");
    expect(await formPage("/sales/new")).toBe("form");
    expect(await actionsOf("running")).toEqual(["action-pause", "action-end"]);
    expect(await formPage("/sales/running/edit")).toBe("Your role (operator) cannot change a sale that has started.");

    // What it is shown works.
    await actionsOf("running");
    page.once("dialog", (d) => void d.accept("running"));
    await page.click("#action-pause");
    await page.locator("#sale-state", { hasText: "paused" }).waitFor();
    expect(await shownActions()).toEqual(["action-resume", "action-end"]);
    expect(browser.consoleErrors).toEqual([]);
  });
});

describe("an admin", () => {
  it("sees every action the sale's state allows", async () => {
    await signInWith(TEST_ADMIN_TOKEN);
    expect(await actionsOf("upcoming")).toEqual(["action-edit", "action-pause", "action-delete"]);
    expect(await actionsOf("running")).toEqual(["action-edit", "action-resume", "action-end"]);
    expect(await formPage("/sales/running/edit")).toBe("form");
  });
});
