/**
 * Sign-in to the admin UI through the shop's OpenID provider (issue 25), in a real browser
 * (Debian's chromium) against a real provider (oidc-provider in its own process, its dev login
 * and consent pages) and the real control plane as a process (openid-client is an ES module,
 * which jest does not load), the browser reaching it at localhost, another site than the
 * provider's 127.0.0.1. An operator matched by email (a claim this provider gives at its
 * userinfo endpoint only), then by subject, lands on the admin UI and the audit names it; an account no operator has, a disabled operator, a code issued to
 * another client, an ID token for another audience, an expired code and a replayed one are each
 * refused with the sign-in page and no session.
 */
import { spawn, type ChildProcess } from "node:child_process";
import { generateKeyPairSync } from "node:crypto";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import type { Page, Response } from "playwright-core";
import { TestStack } from "./support/test-stack";
import { useStack } from "./support/use-stack";
import { Browser } from "./support/browser";
import { ControlPlaneProcess } from "./support/control-plane-process";
import { freePort } from "./support/ports";

jest.setTimeout(60_000);

const CLIENT_ID = "flash-sale-admin";
const SECRET = "admin-ui-client-secret-admin-ui-client-secret";
const HOUR = 3600_000;
/** Short enough for the expired-code case to wait it out. */
const CODE_TTL_SECONDS = 3;

const ACCOUNTS = {
  "sub-alice": { email: "alice@shop.example", email_verified: true },
  "sub-dave": { email: "dave@shop.example", email_verified: true },
  "sub-erin": { email: "erin@shop.example", email_verified: true },
  "sub-mallory": { email: "mallory@elsewhere.example", email_verified: true },
};

let providerChild: ChildProcess;
let issuer: string;
let controlPlane: ControlPlaneProcess;
/** The control plane as the browser reaches it: localhost, another site than the provider's 127.0.0.1. */
let adminUrl: string;
let callback: string;
let browser: Browser;
let page: Page;
const dir = mkdtempSync(path.join(tmpdir(), "fs-admin-oidc-"));

async function startProvider(port: number): Promise<void> {
  const { privateKey } = generateKeyPairSync("rsa", { modulusLength: 2048 });
  const config = path.join(dir, "provider.json");
  writeFileSync(
    config,
    JSON.stringify({
      port,
      keys: [{ ...privateKey.export({ format: "jwk" }), kid: "admin-ui", alg: "RS256", use: "sig" }],
      codeClients: [
        { client_id: CLIENT_ID, client_secret: SECRET, redirect_uris: [callback] },
        // Another of the shop's applications, registered with the same redirect URI by mistake.
        { client_id: "other-app", client_secret: "other-app-secret-other-app-secret", redirect_uris: [callback] },
      ],
      accounts: ACCOUNTS,
      idTokenAudience: { "sub-erin": "other-app" },
      codeTtlSeconds: CODE_TTL_SECONDS,
    }),
  );
  providerChild = spawn(process.execPath, [path.join(__dirname, "support/oidc-provider.mjs"), config], { stdio: ["ignore", "pipe", "inherit"] });
  await new Promise<void>((resolve, reject) => {
    providerChild.stdout!.once("data", () => resolve());
    providerChild.once("exit", (code) => reject(new Error(`oidc-provider exited with ${code}`)));
  });
}

const stack = useStack(new TestStack({ name: "admin_oidc", gateway: false, controlPlane: false }), async () => {
  stack.onStop(() => rmSync(dir, { recursive: true, force: true }));
  const [providerPort, port] = [await freePort(), await freePort()];
  issuer = `http://127.0.0.1:${providerPort}`;
  adminUrl = `http://localhost:${port}`;
  callback = `${adminUrl}/admin/oidc/callback`;
  stack.onStop(() => providerChild?.kill());
  await startProvider(providerPort);
  controlPlane = await ControlPlaneProcess.start({
    redisUrl: stack.redisServer.url(),
    databaseUrl: stack.db.url,
    port,
    env: {
      FS_ADMIN_OIDC_ISSUER: issuer,
      FS_ADMIN_OIDC_CLIENT_ID: CLIENT_ID,
      FS_ADMIN_OIDC_CLIENT_SECRET: SECRET,
      FS_ADMIN_OIDC_REDIRECT_URL: callback,
      FS_ADMIN_OIDC_ROLE_CLAIM: "",
    },
  });
  stack.onStop(() => controlPlane.stop());
  for (const [name, email, disabled] of [["alice", "alice@shop.example", false], ["dave", "dave@shop.example", true], ["erin", "erin@shop.example", false]] as const) {
    expect((await controlPlane.admin("POST", "/admin/api/operators", { name, email, role: "operator", disabled })).status).toBe(201);
  }
  browser = await Browser.launch({ closedWith: stack });
  page = await browser.newPage();
});

beforeEach(async () => {
  // Neither the provider's session nor ours carries over: each case signs in from the start.
  await browser.context.clearCookies();
  await page.unrouteAll();
});

/** At the provider's pages: its dev login as `account`, then consent; the control plane's answer at the callback. */
async function throughProvider(account: string): Promise<Response> {
  const answer = page.waitForResponse((r) => r.url().startsWith(`${callback}?`));
  await page.waitForURL(`${issuer}/interaction/**`);
  await page.fill("input[name=login]", account);
  await page.fill("input[name=password]", "any password: the dev login takes it");
  await page.click("button[type=submit]");
  await page.locator("button", { hasText: "Continue" }).click();
  return answer;
}

/** From the control plane's sign-in page through the provider as `account`. */
async function signIn(account: string): Promise<Response> {
  await page.goto(`${adminUrl}/admin/login`);
  await page.click("#oidc-sign-in");
  return throughProvider(account);
}

/**
 * Signs in at the provider as `account` but does not go back: the callback's URL with the code,
 * not yet visited (the browser keeps the flow cookie). The consent's answer redirects to the
 * provider's /auth, which redirects to the callback; a route sees no redirect, so both are
 * followed here and the browser is shown a page of its own.
 */
async function heldCode(account: string): Promise<string> {
  let held: string | undefined;
  await page.route(`${issuer}/interaction/**`, async (route) => {
    // The dev login and consent forms post to the same URL, the step named in the form.
    if (!(route.request().postData() ?? "").includes("prompt=consent")) return route.continue();
    const consent = await route.fetch({ maxRedirects: 0 });
    const auth = await page.request.get(new URL(consent.headers()["location"]!, issuer).href, { maxRedirects: 0 });
    held = auth.headers()["location"];
    await route.fulfill({ status: 200, contentType: "text/plain", body: "held" });
  });
  await page.goto(`${adminUrl}/admin/login`);
  await page.click("#oidc-sign-in");
  await page.waitForURL(`${issuer}/interaction/**`);
  await page.fill("input[name=login]", account);
  await page.fill("input[name=password]", "any password: the dev login takes it");
  await page.click("button[type=submit]");
  await page.locator("button", { hasText: "Continue" }).click();
  await page.locator("body", { hasText: "held" }).waitFor();
  await page.unrouteAll();
  expect(held).toMatch(new RegExp(`^${callback}\\?code=`));
  return held!;
}

async function sessionCookie(): Promise<string | undefined> {
  return (await browser.context.cookies(`${adminUrl}/admin`)).find((c) => c.name === "fs_admin_session")?.value;
}

async function expectRefused(answer: Response, message: string): Promise<void> {
  expect(answer.status()).toBe(403);
  expect(await page.locator("[role=alert]").innerText()).toBe(message);
  expect(await sessionCookie()).toBeUndefined();
  expect((await page.request.get(`${adminUrl}/admin/api/me`)).status()).toBe(401);
}

const UNVERIFIED = "The identity provider's answer could not be verified; sign in again.";
const NOT_OPERATOR = "This account is not an enabled operator here; ask an admin.";

/** The errors the control plane logged with each refused sign-in since `from`, as JSON. */
function refusals(from: number): string[] {
  return controlPlane.logs.slice(from).filter((l) => l.msg === "OpenID sign-in refused").map((l) => JSON.stringify(l.err));
}

describe("sign-in through the provider", () => {
  it("lets an operator matched by email in; it acts and the audit names it", async () => {
    expect((await signIn("sub-alice")).status()).toBe(200);
    await page.waitForURL(`${adminUrl}/admin`);
    expect(await page.locator("#whoami").innerText()).toBe("alice · operator");
    expect(await sessionCookie()).toEqual(expect.any(String));
    const { rows } = await stack.db.pool.query("SELECT oidc_subject FROM operators WHERE name = 'alice'");
    expect(rows).toEqual([{ oidc_subject: "sub-alice" }]);

    const now = Date.now();
    const sale = { id: "oidc-lamp", name: "Lamp", price: 100, stock: 5, startsAt: new Date(now + HOUR).toISOString(), endsAt: new Date(now + 2 * HOUR).toISOString(), deduction: "order" };
    expect((await controlPlane.admin("POST", "/admin/api/sales", sale)).status).toBe(201);
    const csrf = await page.locator("meta[name=csrf-token]").getAttribute("content");
    const paused = await page.request.post(`${adminUrl}/admin/api/sales/oidc-lamp/pause`, { headers: { "x-csrf-token": csrf!, "x-admin-actor": "bootstrap" } });
    expect(paused.status()).toBe(200);
    const audit = (await controlPlane.admin("GET", "/admin/api/sales/oidc-lamp/audit")).body.entries;
    expect(audit.map((e: { action: string; actor: string }) => [e.action, e.actor])).toEqual([
      ["create", "bootstrap"],
      ["publish", "bootstrap"],
      ["pause", "alice"],
    ]);
  });

  it("matches the operator by its subject once bound, whatever its email becomes", async () => {
    const alice = (await controlPlane.admin("GET", "/admin/api/operators")).body.operators.find((o: { name: string }) => o.name === "alice");
    expect((await controlPlane.admin("PATCH", `/admin/api/operators/${alice.id}`, { email: "alice@new-domain.example" })).status).toBe(200);
    expect((await signIn("sub-alice")).status()).toBe(200);
    await page.waitForURL(`${adminUrl}/admin`);
    expect(await page.locator("#whoami").innerText()).toBe("alice · operator");
  });

  it("refuses an account no operator has, and a disabled operator", async () => {
    await expectRefused(await signIn("sub-mallory"), NOT_OPERATOR);
    await browser.context.clearCookies();
    await expectRefused(await signIn("sub-dave"), NOT_OPERATOR);
  });

  it("refuses a code the provider issued to another client", async () => {
    const from = controlPlane.logs.length;
    // The flow begun here (its cookie set in this browser), its request sent as another client.
    const start = await page.request.get(`${adminUrl}/admin/oidc/start`, { maxRedirects: 0 });
    const authorize = new URL(start.headers()["location"]!);
    expect(authorize.searchParams.get("client_id")).toBe(CLIENT_ID);
    authorize.searchParams.set("client_id", "other-app");
    await page.goto(authorize.href);
    await expectRefused(await throughProvider("sub-alice"), UNVERIFIED);
    expect(refusals(from)).toEqual([expect.stringMatching(/invalid_grant/)]);
  });

  it("refuses an ID token issued for another audience", async () => {
    const from = controlPlane.logs.length;
    await expectRefused(await signIn("sub-erin"), UNVERIFIED);
    expect(refusals(from)).toEqual([expect.stringMatching(/unexpected JWT .*aud.* \(audience\) claim value/)]);
    const { rows } = await stack.db.pool.query("SELECT oidc_subject FROM operators WHERE name = 'erin'");
    expect(rows).toEqual([{ oidc_subject: null }]);
  });

  it("refuses a code brought back a second time, and one with no sign-in begun in this browser", async () => {
    const codeUrl = await heldCode("sub-alice");
    const flow = (await browser.context.cookies(callback)).find((c) => c.name === "fs_admin_oidc")!;
    expect((await page.goto(codeUrl))!.status()).toBe(200);
    await page.waitForURL(`${adminUrl}/admin`);
    await browser.context.clearCookies();
    const from = controlPlane.logs.length;
    await browser.context.addCookies([flow]);
    await expectRefused((await page.goto(codeUrl))!, UNVERIFIED);
    // The refusal cleared the flow cookie: nothing begun here.
    await expectRefused((await page.goto(codeUrl))!, UNVERIFIED);
    expect(refusals(from)).toEqual([expect.stringMatching(/invalid_grant/), expect.stringMatching(/no sign-in in progress in this browser/)]);
  });

  it("refuses a code that expired before the browser brought it back", async () => {
    const codeUrl = await heldCode("sub-alice");
    await page.waitForTimeout((CODE_TTL_SECONDS + 1) * 1000);
    const from = controlPlane.logs.length;
    await expectRefused((await page.goto(codeUrl))!, UNVERIFIED);
    expect(refusals(from)).toEqual([expect.stringMatching(/invalid_grant/)]);
  });
});
