/**
 * The admin UI's webhooks page (issue 24), in a real browser (Debian's chromium) against the real
 * control plane, Postgres and a real dispatcher delivering to a node:http receiver on loopback:
 * an admin adds an endpoint and is shown its secret once, replays the started sale's event and
 * sees its delivery answered, rotates the secret (the new one signs the next delivery), disables
 * and enables, and deletes it; an operator sees the list and deliveries but no control to change.
 */
import type { Page } from "playwright-core";
import { createLogger } from "@flash-sale/node-common";
import { TestStack } from "./support/test-stack";
import { useStack } from "./support/use-stack";
import type { ServedApp } from "./support/admin-app";
import { Browser, adminLogin } from "./support/browser";
import { adminCall, TEST_ADMIN_TOKEN } from "./support/control-plane";
import { waitFor } from "./support/stream-fixtures";
import { Receiver } from "./support/webhook-receiver";
import { WebhookDispatcher } from "../control-plane/src/webhooks/dispatcher";

jest.setTimeout(60_000);

const HOUR = 3600_000;

let server: ServedApp;
let dispatcher: WebhookDispatcher;
let receiver: Receiver;
let browser: Browser;
let page: Page;

const stack = useStack(new TestStack({ name: "admin_webhooks_browser", gateway: false, controlPlane: false }), async () => {
  server = await stack.serveAdminApp({ webhooks: { allowPrivateUrls: true } });
  receiver = new Receiver();
  await receiver.listen();
  stack.onStop(() => receiver.down());
  const now = Date.now();
  const sale = { id: "started", name: "Lamp", price: 100, stock: 10, startsAt: new Date(now - 60_000).toISOString(), endsAt: new Date(now + HOUR).toISOString(), deduction: "order" };
  const res = await adminCall(server.url, "POST", "/admin/api/sales", sale);
  if (res.status !== 201) throw new Error(`create failed: ${res.status} ${JSON.stringify(res.body)}`);
  const settings = { allowPrivateUrls: true, retryForMs: 600_000, backoff: { baseMs: 50, maxMs: 400 }, timeoutMs: 1000, concurrency: 4, pollMs: 50 };
  dispatcher = new WebhookDispatcher({ pool: stack.db.pool, logger: createLogger("admin-webhooks-browser-test", "silent"), settings });
  dispatcher.start();
  stack.onStop(() => dispatcher.stop());
  // The sale's event is in the outbox before any endpoint exists: only a replay sends it.
  await waitFor("the sale.started event", async () => (await stack.db.pool.query("SELECT 1 FROM webhook_events WHERE type = 'sale.started'")).rowCount === 1);
  browser = await Browser.launch({ closedWith: stack });
  page = await browser.newPage();
});

async function signInWith(token: string): Promise<void> {
  await browser.context.clearCookies();
  await adminLogin(page, server.url, token);
}

async function mint(name: string, role: string): Promise<string> {
  const res = await adminCall(server.url, "POST", "/admin/api/tokens", { name, role });
  if (res.status !== 201) throw new Error(`mint failed: ${res.status} ${JSON.stringify(res.body)}`);
  return res.body.token;
}

/** The endpoint row's buttons and forms, by their labels. */
async function controls(): Promise<string[]> {
  return page.locator("#webhooks tbody tr .actions").first().locator("button").allInnerTexts();
}

/** Opens the endpoint's deliveries until its one delivery's last answer reads `answer`; its cells. */
async function deliveryWith(answer: string): Promise<string[]> {
  for (let i = 0; i < 50; i++) {
    await page.click("#webhooks .show-deliveries");
    const row = page.locator("#deliveries tbody tr");
    await page.locator("#deliveries").waitFor();
    if ((await row.count()) === 1 && (await row.locator(".last-answer").innerText()) === answer && (await row.locator(".next-try").innerText()).startsWith("delivered")) {
      return row.locator("td").allInnerTexts();
    }
    await page.waitForTimeout(100);
  }
  throw new Error(`no delivery answered ${answer}: ${await page.locator("#app").innerText()}`);
}

describe("an admin", () => {
  it("adds an endpoint (its secret shown once), sees a replayed event delivered, rotates the secret, disables and enables it", async () => {
    await signInWith(TEST_ADMIN_TOKEN);
    await page.click("header nav a:text-is('Webhooks')");
    await page.waitForURL(`${server.url}/admin/webhooks`);
    await page.locator("#webhook-form").waitFor();
    await page.fill("#webhook-url", receiver.url);
    await page.uncheck("#webhook-form input[value='order.confirmed']");
    await page.fill("#webhook-description", "the shop's ERP");
    await page.click("#webhook-form button[type=submit]");
    const secret = await page.locator("#new-secret").innerText();
    expect(secret).toMatch(/^whsec_[A-Za-z0-9+/]{43}=$/);
    expect(await page.locator("[role=status]").innerText()).toContain("shown this once");
    const row = page.locator("#webhooks tbody tr");
    expect(await row.count()).toBe(1);
    const cells = await row.locator("td").allInnerTexts();
    expect(cells.slice(0, 4)).toEqual([receiver.url, "order.paid, order.expired, order.failed, sale.started, sale.sold_out, sale.ended", "enabled", "the shop's ERP"]);
    expect(await controls()).toEqual(["Deliveries", "Disable", "Rotate secret", "Replay since", "Delete"]);

    // Shown once: the page reloaded has it no more.
    await page.reload();
    await page.locator("#webhooks").waitFor();
    expect(await page.locator("#new-secret").count()).toBe(0);
    expect(await page.locator("#app").innerText()).not.toContain(secret);

    // The sale's event, written before the endpoint existed, sent by a replay since an hour ago.
    receiver.secrets = [secret];
    await page.fill("#webhooks .replay-since", "2000-01-01T00:00");
    await page.click("#webhooks .replay button");
    await page.locator("[role=status]", { hasText: "1 event queued again" }).waitFor();
    expect(await deliveryWith("HTTP 204")).toEqual([expect.stringMatching(/^evt_\d+$/), "sale.started", "1", "HTTP 204", expect.stringMatching(/^delivered /)]);
    expect(receiver.received.map((r) => [r.type, r.verified])).toEqual([["sale.started", [true]]]);

    // Rotated: a new secret, shown once; the next delivery verifies with it.
    page.once("dialog", (d) => void d.accept());
    await page.click("#webhooks .rotate");
    await page.locator("[role=status]", { hasText: "rotated" }).waitFor();
    const rotated = await page.locator("#new-secret").innerText();
    expect(rotated).toMatch(/^whsec_/);
    expect(rotated).not.toBe(secret);
    receiver.secrets = [rotated];
    await page.fill("#webhooks .replay-since", "2000-01-01T00:00");
    await page.click("#webhooks .replay button");
    await waitFor("the replay after the rotation", () => receiver.received.length === 2);
    expect(receiver.received[1]!.verified).toEqual([true]);
    expect((await deliveryWith("HTTP 204"))[2]).toBe("2");

    await page.click("#webhooks .toggle");
    await page.locator("#webhooks .state", { hasText: "disabled" }).waitFor();
    expect((await adminCall(server.url, "GET", "/admin/api/webhooks")).body.endpoints[0].enabled).toBe(false);
    await page.click("#webhooks .toggle");
    await page.locator("#webhooks .state", { hasText: "enabled" }).waitFor();
    expect((await adminCall(server.url, "GET", "/admin/api/webhooks")).body.endpoints[0].enabled).toBe(true);
    expect(browser.consoleErrors).toEqual([]);
  });
});

describe("an operator", () => {
  it("sees the endpoints and their deliveries, and no control to change them", async () => {
    await signInWith(await mint("shift-lead", "operator"));
    expect(await page.locator("header nav a").allInnerTexts()).toEqual(["Sales", "New sale", "Tokens", "Webhooks"]);
    await page.goto(`${server.url}/admin/webhooks`);
    await page.locator("#webhooks").waitFor();
    expect(await page.locator("#webhooks tbody tr td").first().innerText()).toBe(receiver.url);
    expect(await controls()).toEqual(["Deliveries"]);
    expect(await page.locator("#webhooks form, #webhook-form").count()).toBe(0);
    expect((await deliveryWith("HTTP 204"))[1]).toBe("sale.started");
    expect(browser.consoleErrors).toEqual([]);
  });
});

describe("an admin, last", () => {
  it("deletes the endpoint once confirmed", async () => {
    await signInWith(TEST_ADMIN_TOKEN);
    await page.goto(`${server.url}/admin/webhooks`);
    await page.locator("#webhooks").waitFor();
    page.once("dialog", (d) => void d.accept());
    await page.click("#webhooks .delete");
    await page.locator("[role=status]", { hasText: "deleted" }).waitFor();
    expect(await page.locator("#webhooks").count()).toBe(0);
    expect((await adminCall(server.url, "GET", "/admin/api/webhooks")).body.endpoints).toEqual([]);
  });
});
