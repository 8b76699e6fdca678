/**
 * Shoppers signed in at the shop: a real OpenID provider (oidc-provider, its own process) issues
 * RS256 and ES256 access tokens; the control plane's refresher fetches its JWKS and publishes it;
 * the real gateway checks the tokens with libcrypto. Rotation, removal, an unreachable provider,
 * and every refusal: each a 401 `unauthorized` from the catalogue.
 */
import { spawn, type ChildProcess } from "node:child_process";
import { createHmac, createPrivateKey, createPublicKey, generateKeyPairSync, sign, type JsonWebKey } from "node:crypto";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { createServer } from "node:http";
import type { AddressInfo } from "node:net";
import { tmpdir } from "node:os";
import path from "node:path";
import { createLogger, Registry } from "@flash-sale/node-common";
import { JWKS_KEY } from "@flash-sale/contract/keys";
import { JwksRefresher, type JwksSettings } from "../control-plane/src/auth/jwks-refresher";
import { LOAD_TEST_KNOBS, waitForSale } from "./support/gateway";
import { freePort } from "./support/ports";
import { TestStack } from "./support/test-stack";
import { useStack } from "./support/use-stack";
import { b64url, signToken } from "./support/tokens";

jest.setTimeout(120_000);

const SECRET = "client-secret-client-secret-client-secret";
const AUDIENCE = "flash-sale";
const SALE = "jwks-sale";

function privateJwk(type: "rsa" | "ec", kid: string): JsonWebKey {
  const pair = type === "rsa" ? generateKeyPairSync("rsa", { modulusLength: 2048 }) : generateKeyPairSync("ec", { namedCurve: "P-256" });
  return { ...pair.privateKey.export({ format: "jwk" }), kid, alg: type === "rsa" ? "RS256" : "ES256", use: "sig" };
}

const r1 = privateJwk("rsa", "r1");
const e1 = privateJwk("ec", "e1");
const r2 = privateJwk("rsa", "r2");
const stranger = privateJwk("rsa", "r1-stranger");

/** The provider's process on `port`; restarted with other keys to rotate them. */
class Provider {
  private child: ChildProcess | undefined;
  private readonly dir = mkdtempSync(path.join(tmpdir(), "fs-oidc-"));
  constructor(readonly port: number) {}

  get issuer(): string {
    return `http://127.0.0.1:${this.port}`;
  }

  async start(keys: JsonWebKey[]): Promise<void> {
    const config = path.join(this.dir, "config.json");
    const clients = [
      { client_id: "rs-shopper", client_secret: SECRET, alg: "RS256" },
      { client_id: "es-shopper", client_secret: SECRET, alg: "ES256" },
    ];
    writeFileSync(config, JSON.stringify({ port: this.port, keys, clients }));
    const child = spawn(process.execPath, [path.join(__dirname, "support/oidc-provider.mjs"), config], { stdio: ["ignore", "pipe", "ignore"] });
    this.child = child;
    await new Promise<void>((resolve, reject) => {
      child.stdout!.once("data", () => resolve());
      child.once("exit", (code) => reject(new Error(`oidc-provider exited with ${code}`)));
    });
  }

  async stop(): Promise<void> {
    const child = this.child;
    if (child === undefined || child.exitCode !== null || child.signalCode !== null) return;
    await new Promise((r) => {
      child.once("exit", r);
      child.kill();
    });
  }

  /** An access token by client credentials: RS256 for rs-shopper, ES256 for es-shopper. */
  async token(clientId: "rs-shopper" | "es-shopper"): Promise<string> {
    const res = await fetch(`${this.issuer}/token`, {
      method: "POST",
      body: new URLSearchParams({ grant_type: "client_credentials", client_id: clientId, client_secret: SECRET }),
    });
    const body = (await res.json()) as { access_token?: string };
    if (res.status !== 200 || body.access_token === undefined) throw new Error(`token: ${res.status} ${JSON.stringify(body)}`);
    return body.access_token;
  }

  remove(): void {
    rmSync(this.dir, { recursive: true, force: true });
  }
}

let provider: Provider;
let refresher: JwksRefresher | undefined;
let registry: Registry;

function startRefresher(settings: Partial<JwksSettings>): void {
  registry = new Registry();
  refresher = new JwksRefresher(
    stack.redis,
    { url: `${provider.issuer}/jwks`, issuer: provider.issuer, audience: AUDIENCE, leewaySeconds: 10, refreshSeconds: 60, minRefreshSeconds: 1, ...settings },
    createLogger("jwks-test", "silent"),
    registry,
  );
  refresher.start();
}

/** A token signed as the provider would, with a key of ours: for claims the provider would not issue. */
function forge(key: JsonWebKey, claims: Record<string, unknown>, header: Record<string, unknown> = {}): string {
  const alg = key.kty === "EC" ? "ES256" : "RS256";
  const now = Math.floor(Date.now() / 1000);
  const payload = { sub: "forged", exp: now + 600, iss: provider.issuer, aud: AUDIENCE, ...claims };
  const signed = `${b64url(JSON.stringify({ alg, typ: "at+jwt", kid: key.kid, ...header }))}.${b64url(JSON.stringify(payload))}`;
  const pk = createPrivateKey({ key: key, format: "jwk" });
  const sig = sign("sha256", Buffer.from(signed), alg === "ES256" ? { key: pk, dsaEncoding: "ieee-p1363" } : pk);
  return `${signed}.${sig.toString("base64url")}`;
}

async function ordersStatus(token: string): Promise<{ status: number; body: any }> {
  const res = await fetch(`${stack.gateway.url}/api/orders`, { headers: { authorization: `Bearer ${token}` } });
  return { status: res.status, body: await res.json() };
}

/** Polls until `status(token)` is `want`; answers how long it took, ms. */
async function untilStatus(token: string, want: number, timeoutMs: number): Promise<number> {
  const start = Date.now();
  for (;;) {
    if ((await ordersStatus(token)).status === want) return Date.now() - start;
    if (Date.now() - start > timeoutMs) throw new Error(`still not ${want} after ${timeoutMs} ms`);
    await new Promise((r) => setTimeout(r, 200));
  }
}

async function published(): Promise<string[]> {
  const set = await stack.redis.hget(JWKS_KEY, "set");
  return set === null ? [] : (JSON.parse(set) as { keys: { kid: string }[] }).keys.map((k) => k.kid);
}

const stack = useStack(new TestStack({ name: "gateway-jwks", knobs: LOAD_TEST_KNOBS }), async () => {
  provider = new Provider(await freePort());
  stack.onStop(() => provider.remove());
  stack.onStop(() => provider.stop());
  await provider.start([r1, e1]);
  stack.onStop(() => refresher?.stop());
  startRefresher({});
  for (let i = 0; i < 50 && (await published()).length < 2; i++) await new Promise((r) => setTimeout(r, 100));
  await stack.controlPlane.createSale({ id: SALE, stock: 10, limits: { userRatePerSecond: 1000, userBurst: 1000, admitPerSecond: 100000 } });
  await waitForSale(stack.gateway, SALE);
  // Every worker syncs the set within a second.
  await new Promise((r) => setTimeout(r, 1200));
});

test("the provider's RS256 and ES256 access tokens are accepted, and a purchase with one is admitted; HS256 keeps working beside them", async () => {
  expect(await published()).toEqual(["r1", "e1"]);
  for (const client of ["rs-shopper", "es-shopper"] as const) {
    const token = await provider.token(client);
    expect(await ordersStatus(token)).toEqual({ status: 200, body: expect.anything() });
  }
  const buy = await fetch(`${stack.gateway.url}/api/sales/${SALE}/purchase`, {
    method: "POST",
    headers: { authorization: `Bearer ${await provider.token("es-shopper")}`, "content-type": "application/json" },
    body: JSON.stringify({ quantity: 1 }),
  });
  expect(buy.status).toBe(202);
  expect((await ordersStatus(await provider.token("es-shopper"))).body.orders).toHaveLength(1);
  expect((await ordersStatus(signToken("hs-shopper"))).status).toBe(200);
});

describe("refusals: each a 401 unauthorized", () => {
  const now = () => Math.floor(Date.now() / 1000);
  const rsaPem = () => createPublicKey({ key: r1, format: "jwk" }).export({ format: "pem", type: "spki" }) as string;
  const hs256 = (secret: string, header: Record<string, unknown>) => {
    const signed = `${b64url(JSON.stringify({ alg: "HS256", ...header }))}.${b64url(JSON.stringify({ sub: "mallory", exp: now() + 600, iss: provider.issuer, aud: AUDIENCE }))}`;
    return `${signed}.${createHmac("sha256", secret).update(signed).digest("base64url")}`;
  };
  const cases: [string, () => Promise<string> | string][] = [
    ["alg none", () => `${b64url(JSON.stringify({ alg: "none", kid: "r1" }))}.${b64url(JSON.stringify({ sub: "mallory", exp: now() + 600 }))}.`],
    ["alg none with a signature", () => `${b64url(JSON.stringify({ alg: "none", kid: "r1" }))}.${b64url(JSON.stringify({ sub: "mallory", exp: now() + 600 }))}.AAAA`],
    ["alg confusion: HS256 signed with the RSA public key (PEM) as secret", () => hs256(rsaPem(), { kid: "r1" })],
    ["alg confusion: HS256 signed with the key's modulus as secret", () => hs256(Buffer.from(r1.n as string, "base64url").toString("latin1"), { kid: "r1" })],
    ["RS256 under the EC key's kid", () => forge({ ...r1, kid: "e1" }, {})],
    [
      "tampered payload",
      async () => {
        const [h, , s] = (await provider.token("rs-shopper")).split(".");
        return `${h}.${b64url(JSON.stringify({ sub: "mallory", exp: now() + 600, iss: provider.issuer, aud: AUDIENCE }))}.${s}`;
      },
    ],
    [
      "tampered signature",
      async () => {
        const [h, p, s] = (await provider.token("es-shopper")).split(".");
        const sig = Buffer.from(s as string, "base64url");
        sig[10] = (sig[10] as number) ^ 1;
        return `${h}.${p}.${sig.toString("base64url")}`;
      },
    ],
    ["unknown kid", () => forge(stranger, {})],
    ["a known kid, signed by another key", () => forge({ ...stranger, kid: "r1" }, {})],
    ["no kid among several keys", () => forge({ ...r1, kid: undefined }, {})],
    ["wrong iss", () => forge(r1, { iss: "https://evil.example" })],
    ["wrong aud", () => forge(e1, { aud: "another-api" })],
    ["expired beyond the leeway", () => forge(r1, { exp: now() - 30 })],
    ["not yet valid beyond the leeway", () => forge(r1, { nbf: now() + 120 })],
  ];
  test.each(cases)("%s", async (_name, make) => {
    const { status, body } = await ordersStatus(await make());
    expect(status).toBe(401);
    expect(body.error).toBe("unauthorized");
  });

  test("within the leeway a token still counts: 3 s past its exp (leeway 10 s), an nbf 20 s ahead (30 s at least)", async () => {
    expect((await ordersStatus(forge(r1, { exp: now() - 3 }))).status).toBe(200);
    expect((await ordersStatus(forge(e1, { nbf: now() + 20 }))).status).toBe(200);
  });
});

test("rotation: a new key counts within seconds (a gateway reports its unknown kid); a removed key is refused within the refresh interval", async () => {
  await provider.stop();
  await provider.start([r2, r1, e1]);
  const fresh = await provider.token("rs-shopper");
  expect(JSON.parse(Buffer.from(fresh.split(".")[0] as string, "base64url").toString()).kid).toBe("r2");
  // The refresher's next scheduled fetch is a minute away: only the report brings the new key.
  const tookMs = await untilStatus(fresh, 200, 15_000);
  expect(tookMs).toBeLessThan(15_000);
  expect(await published()).toEqual(["r2", "r1", "e1"]);

  const old = forge(r1, { sub: "old-key-shopper" });
  expect((await ordersStatus(old)).status).toBe(200);
  await refresher!.stop();
  startRefresher({ refreshSeconds: 3 });
  await provider.stop();
  await provider.start([r2, e1]);
  const removedMs = await untilStatus(old, 401, 10_000);
  expect(removedMs).toBeLessThan(10_000);
  expect((await ordersStatus(fresh)).status).toBe(200);
});

test("an unreachable provider: the last good set stays in force and the failures are counted", async () => {
  const token = await provider.token("es-shopper");
  await provider.stop();
  await new Promise((r) => setTimeout(r, 4_000));
  expect((await ordersStatus(token)).status).toBe(200);
  expect(await published()).toEqual(["r2", "e1"]);
  const failures = (await registry.getSingleMetric("fs_control_plane_jwks_refresh_failures_total")!.get()).values;
  expect(failures.find((v) => v.labels.reason === "fetch")?.value).toBeGreaterThan(0);
  // What IdentityKeySetStale watches: the last success stays behind; without a provider there is none to watch.
  const [lastSuccess] = (await registry.getSingleMetric("fs_control_plane_jwks_last_success_timestamp_seconds")!.get()).values;
  expect(Date.now() / 1000 - lastSuccess!.value).toBeGreaterThan(3);
  const hsOnly = new Registry();
  new JwksRefresher(stack.redis, { url: undefined, issuer: undefined, audience: undefined, leewaySeconds: 0, refreshSeconds: 60, minRefreshSeconds: 1 }, createLogger("jwks-test", "silent"), hsOnly);
  expect(hsOnly.getSingleMetric("fs_control_plane_jwks_last_success_timestamp_seconds")).toBeUndefined();
  await provider.start([r2, e1]);
});

test("two control planes: a set one fetched earlier but publishes later never replaces the other's newer one, nor brings back a removed key", async () => {
  await refresher!.stop();
  const publicJwk = (k: JsonWebKey) => ({ ...createPublicKey({ key: k, format: "jwk" }).export({ format: "jwk" }), kid: k.kid, alg: k.alg, use: "sig" });
  let served = [publicJwk(r1), publicJwk(e1)];
  // The slow control plane's answer: its headers at once, its body (the set as it was asked) when released.
  let release: (() => void) | undefined;
  const held = new Promise<void>((r) => (release = r));
  let holdNext = true;
  const server = createServer((_req, res) => {
    const body = JSON.stringify({ keys: served });
    const hold = holdNext ? held : Promise.resolve();
    holdNext = false;
    res.writeHead(200, { "content-type": "application/json" });
    res.flushHeaders();
    void hold.then(() => res.end(body));
  });
  await new Promise<void>((r) => server.listen(0, "127.0.0.1", r));
  const url = `http://127.0.0.1:${(server.address() as AddressInfo).port}/jwks`;
  const controlPlane = () =>
    new JwksRefresher(stack.redis, { url, issuer: provider.issuer, audience: AUDIENCE, leewaySeconds: 10, refreshSeconds: 60, minRefreshSeconds: 1 }, createLogger("jwks-test", "silent"), new Registry());
  try {
    const fetchesBefore = Number(await stack.redis.hget(JWKS_KEY, "fetches"));
    const slow = controlPlane();
    const slowRefresh = slow.refresh();
    // The slow one has its answer's headers (and its number): the provider then drops r1.
    for (let i = 0; i < 50 && Number(await stack.redis.hget(JWKS_KEY, "fetches")) === fetchesBefore; i++) await new Promise((r) => setTimeout(r, 20));
    served = [publicJwk(r2), publicJwk(e1)];
    await controlPlane().refresh();
    expect(await published()).toEqual(["r2", "e1"]);

    release!();
    await slowRefresh;
    expect(await published()).toEqual(["r2", "e1"]);
    await new Promise((r) => setTimeout(r, 1200));
    expect(await ordersStatus(forge(r1, {}))).toEqual({ status: 401, body: expect.objectContaining({ error: "unauthorized" }) });

    // Its next fetch is later than every one written: published as usual.
    served = [publicJwk(r2)];
    await slow.refresh();
    expect(await published()).toEqual(["r2"]);
  } finally {
    await new Promise((r) => server.close(r));
  }
});
