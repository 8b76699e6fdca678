/**
 * The same core, two runtimes: each case runs through the TS core in Node and through the
 * compiled Lua core inside the real nginx (LuaJIT), and the answers must be equal. The cases
 * aim at the places where Node and LuaJIT differ (TSTL.md): falsy 0 and "", byte lengths,
 * number formatting, Lua's 1-based tables, and HMAC computed by two different libraries.
 */
import { spawnSync } from "node:child_process";
import { generateKeyPairSync, sign, type KeyObject } from "node:crypto";
import { luaModuleAliases } from "../nginx-conf/src/render";
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync, existsSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import * as buckets from "@flash-sale/contract/buckets";
import * as challenge from "@flash-sale/contract/challenge";
import * as cluster from "@flash-sale/contract/cluster";
import * as challengeImage from "@flash-sale/contract/challenge_image";
import * as gcra from "@flash-sale/contract/gcra";
import * as ids from "@flash-sale/contract/ids";
import * as jwk from "@flash-sale/contract/jwk";
import * as jwt from "@flash-sale/contract/jwt";
import * as orderRecord from "@flash-sale/contract/order_record";
import * as payReply from "@flash-sale/contract/pay_reply";
import * as purchaseReply from "@flash-sale/contract/purchase_reply";
import * as purchaseRequest from "@flash-sale/contract/purchase_request";
import * as redisUrl from "@flash-sale/contract/redis_url";
import * as text from "@flash-sale/contract/text";
import * as sale from "@flash-sale/contract/sale";
import * as waitingRoom from "@flash-sale/contract/waiting_room";
import { freePort, waitForPort } from "./support/ports";
import { request } from "./support/http";
import { b64url, signToken } from "./support/tokens";
import { nodeJwtPlatform, nodeKeyPlatform } from "../contract/test/support/node-jwt-platform";
import { PUBLISHED_SALE } from "../contract/test/support/published-sale";

const LUA_DIR = path.resolve(__dirname, "../gateway-lua/build/lua");
const MODULES: Record<string, Record<string, (...args: never[]) => unknown>> = {
  "contract.buckets": buckets as never,
  "contract.challenge": challenge as never,
  "contract.cluster": cluster as never,
  "contract.challenge_image": challengeImage as never,
  "contract.gcra": gcra as never,
  "contract.ids": ids as never,
  "contract.jwk": jwk as never,
  "contract.jwt": jwt as never,
  "contract.order_record": orderRecord as never,
  "contract.pay_reply": payReply as never,
  "contract.purchase_reply": purchaseReply as never,
  "contract.purchase_request": purchaseRequest as never,
  "contract.redis_url": redisUrl as never,
  "contract.sale": sale as never,
  "contract.text": text as never,
  "contract.waiting_room": waitingRoom as never,
};

// Runs the cases posted as JSON; `platform: true` appends the nginx JWT platform for `secret`,
// then the args of after, where "$keys" stands for the key set of jwks loaded into libcrypto.
const HARNESS = `
local cjson = require("cjson.safe")
ngx.req.read_body()
local req = cjson.decode(ngx.req.get_body_data())
local platform = require("adapters.jwt_platform").createJwtPlatform(req.secret)
local keyPlatform = { base64UrlDecode = platform.base64UrlDecode, loadPublicKey = require("adapters.libcrypto").loadPublicKey }
local out = {}
for i, c in ipairs(req.cases) do
  local args = c.args
  if c.platform then args[#args + 1] = platform end
  for _, a in ipairs(c.after or {}) do
    if a == "$keys" then a = require("contract.jwk").readKeySet(c.jwks, keyPlatform).set end
    args[#args + 1] = a
  end
  local r = require(c.module)[c.fn](unpack(args))
  if r == nil then r = cjson.null end
  out[i] = r
end
ngx.print(cjson.encode(out))
`;

let prefix: string;
let port: number;

beforeAll(async () => {
  prefix = mkdtempSync(path.join(tmpdir(), "fs-parity-"));
  mkdirSync(path.join(prefix, "logs"));
  port = await freePort();
  const aliases = luaModuleAliases();
  writeFileSync(
    path.join(prefix, "nginx.conf"),
    `load_module /usr/lib/nginx/modules/ndk_http_module.so;
load_module /usr/lib/nginx/modules/ngx_http_lua_module.so;
worker_processes 1;
pid ${prefix}/nginx.pid;
error_log ${prefix}/logs/error.log warn;
events { worker_connections 64; }
http {
  access_log off;
  client_body_temp_path ${prefix}/tmp;
  client_max_body_size 1m;
  client_body_buffer_size 1m;
  lua_package_path "${LUA_DIR}/?.lua;;";
  init_by_lua_block { ${aliases} }
  server {
    listen 127.0.0.1:${port};
    location = /run { content_by_lua_block { ${HARNESS} } }
  }
}
`,
  );
  const r = spawnSync("nginx", ["-p", prefix, "-c", path.join(prefix, "nginx.conf")], { encoding: "utf8" });
  if (r.status !== 0) throw new Error(r.stderr);
  await waitForPort(port);
});

afterAll(() => {
  const pidFile = path.join(prefix, "nginx.pid");
  if (existsSync(pidFile)) process.kill(Number(readFileSync(pidFile, "utf8")), "SIGQUIT");
  rmSync(prefix, { recursive: true, force: true });
});

interface Case {
  module: string;
  fn: string;
  args: unknown[];
  platform?: boolean;
  /** Args after the platform; "$keys": the key set of `jwks`. */
  after?: unknown[];
  jwks?: unknown;
}

async function runInNginx(secret: string, cases: Case[]): Promise<unknown[]> {
  const res = await request(`http://127.0.0.1:${port}/run`, { method: "POST", body: JSON.stringify({ secret, cases }) });
  if (res.status !== 200) throw new Error(`harness failed: ${res.status} ${res.text}`);
  return res.json();
}

function runInNode(secret: string, cases: Case[]): unknown[] {
  const platform = nodeJwtPlatform(secret);
  return cases.map((c) => {
    const keys = c.jwks === undefined ? undefined : (jwk.readKeySet(c.jwks, nodeKeyPlatform) as { set: unknown }).set;
    const after = (c.after ?? []).map((a) => (a === "$keys" ? keys : a));
    const args = c.platform ? [...c.args, platform, ...after] : c.args;
    const result = MODULES[c.module]![c.fn]!(...(args as never[]));
    return JSON.parse(JSON.stringify(result ?? null));
  });
}

function expectSameInBoth(secret: string, cases: Case[]): Promise<void> {
  return runInNginx(secret, cases).then((lua) => {
    const node = runInNode(secret, cases);
    cases.forEach((c, i) => expect({ case: c, result: lua[i] }).toEqual({ case: c, result: node[i] }));
  });
}

const now = Math.floor(Date.now() / 1000);

test.each([
  ["a short secret", "test-secret-test-secret-test-secret-0123456789"],
  ["a 64-byte secret", "k".repeat(64)],
  ["a secret longer than a SHA-256 block (hashed first)", "long-secret-".repeat(10)],
])("JWT verification agrees with %s", async (_name, secret) => {
  const tokens = [
    signToken("alice", { secret }),
    signToken("bob", { secret: "other-secret-other-secret-other-0123" }),
    signToken("u", { secret, alg: "none" }),
    signToken("u", { secret, expiresInSec: -1 }),
    signToken("u", { secret, claims: { sub: "u", exp: 0 } }),
    signToken("u", { secret, claims: { sub: "", exp: now + 60 } }),
    signToken("u", { secret, claims: { sub: "é", exp: now + 60 } }),
    signToken("u", { secret, claims: { sub: "u", exp: 2 ** 53 } }),
    signToken("u", { secret, claims: { sub: "u", exp: "9999999999" } }),
    signToken("u", { secret, claims: { sub: "u", exp: now + 60, nbf: now + 3600 } }),
    signToken("u", { secret, claims: { sub: "u", exp: now + 60, nbf: now - 1 } }),
    signToken("u", { secret, claims: { sub: "u", exp: now + 60, nbf: "x" } }),
    "a.b.c",
    "a..c",
    "@@@.b.c",
  ];
  await expectSameInBoth(
    secret,
    tokens.map((t) => ({ module: "contract.jwt", fn: "verifyHs256", args: [t, now], platform: true })),
  );
});

test("tokens of a key set (RS256, ES256, EdDSA through libcrypto and node:crypto) agree", async () => {
  const secret = "test-secret-test-secret-test-secret-0123456789";
  const rsa = generateKeyPairSync("rsa", { modulusLength: 2048 });
  const ec = generateKeyPairSync("ec", { namedCurve: "P-256" });
  const ed = generateKeyPairSync("ed25519");
  const other = generateKeyPairSync("ec", { namedCurve: "P-256" });
  const pub = (k: KeyObject, kid: string) => ({ ...k.export({ format: "jwk" }), kid });
  const jwks = { keys: [pub(rsa.publicKey, "r1"), pub(ec.publicKey, "e1"), pub(ed.publicKey, "d1")] };
  const expectations = { issuer: "https://idp.example", audience: "fs" };
  const jws = (alg: string, key: KeyObject, header: Record<string, unknown>, extra: Record<string, unknown> = {}) => {
    const signed = `${b64url(JSON.stringify({ alg, ...header }))}.${b64url(JSON.stringify({ sub: "alice", exp: now + 600, iss: expectations.issuer, aud: ["x", "fs"], ...extra }))}`;
    const data = Buffer.from(signed);
    const sig = alg === "ES256" ? sign("sha256", data, { key, dsaEncoding: "ieee-p1363" }) : sign(alg === "EdDSA" ? null : "sha256", data, key);
    return `${signed}.${sig.toString("base64url")}`;
  };
  const good = jws("ES256", ec.privateKey, { kid: "e1" });
  const [h, p, sg] = good.split(".");
  const tokens = [
    jws("RS256", rsa.privateKey, { kid: "r1" }),
    good,
    jws("EdDSA", ed.privateKey, { kid: "d1" }),
    jws("ES256", other.privateKey, { kid: "e1" }),
    jws("ES256", ec.privateKey, { kid: "zz" }),
    jws("ES256", ec.privateKey, {}),
    jws("RS256", rsa.privateKey, { kid: "e1" }),
    jws("ES256", ec.privateKey, { kid: "e1" }, { iss: "https://evil.example" }),
    jws("ES256", ec.privateKey, { kid: "e1" }, { aud: "other" }),
    jws("ES256", ec.privateKey, { kid: "e1" }, { exp: now - 5 }),
    jws("ES256", ec.privateKey, { kid: "e1" }, { exp: now - 50 }),
    `${h}.${p}.${sg!.slice(0, -4)}AAAA`,
    `${h}.${b64url(JSON.stringify({ sub: "mallory", exp: now + 600 }))}.${sg}`,
    `${h}.${p}.${Buffer.from(sg!, "base64url").subarray(0, 63).toString("base64url")}`,
    signToken("bob", { secret }),
    signToken("u", { secret: rsa.publicKey.export({ format: "pem", type: "spki" }) as string, header: { alg: "HS256", kid: "r1" } }),
  ];
  await expectSameInBoth(
    secret,
    tokens.map((t) => ({ module: "contract.jwt", fn: "verifyToken", args: [t, now], platform: true, after: [86400, "$keys", expectations, 10], jwks })),
  );
  expect(runInNode(secret, [{ module: "contract.jwt", fn: "verifyToken", args: [good, now], platform: true, after: [86400, "$keys", expectations, 10], jwks }])).toEqual([{ userId: "alice" }]);
});

test("request checks, ids, URLs, GCRA and the sale window agree", async () => {
  const published = PUBLISHED_SALE;
  const cases: Case[] = [
    ...[{ quantity: 1 }, { quantity: 0 }, { quantity: -1 }, { quantity: 1.5 }, { quantity: 1e9 }, { quantity: "x" }, { quantity: "" }, {}, { quantity: 1, other: 1 }, { quantity: 2, answer: "" }].map(
      (body) => ({ module: "contract.purchase_request", fn: "parsePurchaseBody", args: [body, 2] }),
    ),
    ...["application/json", "application/json; charset=utf-8", "APPLICATION/JSON", "application/jsonp", ""].map((ct) => ({
      module: "contract.purchase_request",
      fn: "isJsonContentType",
      args: [ct],
    })),
    ...["sale-1", "-x", "é", "a".repeat(64), "a".repeat(65), ""].map((id) => ({ module: "contract.ids", fn: "isValidSaleId", args: [id] })),
    ...["u1", "é", "a b", ""].map((id) => ({ module: "contract.ids", fn: "isValidUserId", args: [id] })),
    ...["s.1", "s.1.1", "s.01.1", "s.1.01", "a.b.3", "s.2.123456789012345", "s.2.1234567890123456", "s.123456789012345.1"].map((id) => ({ module: "contract.ids", fn: "parseOrderId", args: [id] })),
    { module: "contract.ids", fn: "formatOrderId", args: ["s", 99999999999999, 12] },
    ...["0", "65535", "123456", "", "-1", "1.0", "1e3", " 1"].map((t) => ({ module: "contract.text", fn: "decimalValue", args: [t, 5] })),
    ...[
      "u\t2\t1796160138574\t7",
      "u\t2\t17\t",
      "u\t2\t1\t1234567890123456",
      "u\t2\t1796160138574\t7\t0\tUSD",
      "é\t2\t1796160138574\t7\t2147483647\tEUR",
      "u\t2\t1\t7\t1234567890123456\tUSD",
      "u\t2\t1\t7\t100\t",
      "u\t2\t1\t7\t100",
      "u\t2\t1\t7\t100\tUSD\t",
    ].map((t) => ({ module: "contract.order_record", fn: "parseOrderRecord", args: [t] })),
    { module: "contract.order_record", fn: "formatOrderRecord", args: [{ userId: "u", quantity: 2, acceptedAtMs: 1796160138574, epoch: 7, price: 0, currency: "USD" }] },
    { module: "contract.order_record", fn: "formatOrderRecord", args: [{ userId: "é", quantity: 2, acceptedAtMs: 1796160138574, epoch: 7, price: 2147483647, currency: "EUR" }] },
    ...[["1 2 3", 2], ["7", 20], ["1  x 05 9", 20], ["12 123456789012345 1234567890123456", 5]].map((args) => ({ module: "contract.order_record", fn: "newestOrderNumbers", args })),
    ...["redis://:pw@h:7000/3", "redis://h", "redis://h:0", "http://x"].map((u) => ({ module: "contract.redis_url", fn: "parseRedisUrl", args: [u] })),
    { module: "contract.gcra", fn: "gcraDecide", args: [1_000_500, 1_000_000, { emissionIntervalMs: 250, toleranceMs: 1000 }] },
    { module: "contract.gcra", fn: "gcraDecide", args: [1_002_000, 1_000_000, { emissionIntervalMs: 250, toleranceMs: 1000 }] },
    { module: "contract.gcra", fn: "retryAfterSeconds", args: [1001] },
    { module: "contract.gcra", fn: "retryAfterSeconds", args: [1e300] },
    { module: "contract.sale", fn: "parsePublishedSale", args: [published] },
    { module: "contract.sale", fn: "parsePublishedSale", args: [{ ...published, stock: -1 }] },
    ...[999, 1000, 1999, 2000].map((t) => ({ module: "contract.sale", fn: "saleWindowAt", args: [published, t] })),
    // Script replies as Lua tables (1-based) and as Node arrays: the codes index from 0 in both.
    ...[[0, "s.3.12", 4], [1], [3, 2], [-1], [7], [8, "upcoming"], [99], [0.5], [0, 12, 4], [], "OK"].map((reply) => ({ module: "contract.purchase_reply", fn: "decodePurchaseReply", args: [reply] })),
    ...[[0], [-1], [5], [6], "OK"].map((reply) => ({ module: "contract.pay_reply", fn: "payOutcome", args: [reply] })),
  ];
  await expectSameInBoth("unused-secret-unused-secret-unused", cases);
});

test("challenges agree: the same id from both HMACs, the same verdicts on ids made in Node", async () => {
  const secret = "test-secret-test-secret-test-secret-0123456789";
  const mac = nodeJwtPlatform(secret);
  const nonce = "n0n0n0n0n0n0n0n0n0n0n0";
  const id = challenge.challengeId("s1", "alice", now, nonce, "294768", "picture", mac);
  const textId = challenge.challengeId("s1", "alice", now, nonce, "294768", "text", mac);
  const opened = challenge.openChallenge(id, "s1", "alice", now, mac);
  const cases: Case[] = [
    { module: "contract.challenge", fn: "challengeId", args: ["s1", "alice", now, nonce, "294768", "picture"], platform: true },
    { module: "contract.challenge", fn: "challengeId", args: ["s1", "a|b", 0, nonce, "2", "picture"], platform: true },
    { module: "contract.challenge", fn: "challengeId", args: ["s1", "alice", now, nonce, "294768", "text"], platform: true },
    ...[
      [id, "s1", "alice", now],
      [id, "s2", "alice", now],
      [id, "s1", "bob", now],
      [id, "s1", "alice", now + challenge.CHALLENGE_TTL_SEC],
      [id.replace(/^\d+/, "0"), "s1", "alice", now],
      ["", "s1", "alice", now],
      [id.slice(0, -1), "s1", "alice", now],
      [textId, "s1", "alice", now],
      [textId, "s1", "alice", now + challenge.TEXT_ANSWER_DELAY_SEC],
      ["t" + id, "s1", "alice", now + 10],
      ["t." + id.slice(id.indexOf(".") + 1), "s1", "alice", now],
    ].map((args) => ({ module: "contract.challenge", fn: "openChallenge", args, platform: true })),
    ...["294768", "294 768", "29476", "", "0"].map((answer) => ({ module: "contract.challenge", fn: "isRightAnswer", args: [opened, answer], platform: true })),
    // Bytes below 128 only: JSON carries them to Lua as the same single bytes.
    ...["\u0000\u0009\u000a\u007f\u0031\u0006\u0007", "\u0001\u0002", "abcdef"].map((bytes) => ({ module: "contract.challenge", fn: "answerFromBytes", args: [bytes] })),
    ...["\u0000\u0001\u0002", "\u0001\u007e\u0005", "\u0002\u0003\u0004", "\u0005", ""].map((bytes) => ({ module: "contract.challenge", fn: "textQuestion", args: ["294768", bytes] })),
    ...[" 1 2 ", ""].map((a) => ({ module: "contract.challenge", fn: "normalizeAnswer", args: [a] })),
  ];
  await expectSameInBoth(secret, cases);
});

test("cluster routing agrees: CRC16 and slots (bit operations are signed 32-bit in LuaJIT), CLUSTER SLOTS, redirects", async () => {
  const slots = [
    [10923, 16383, ["127.0.0.1", 7003, "c"], ["127.0.0.1", 7006, "f"]],
    [0, 5460, ["127.0.0.1", 7001, "a"]],
    [5461, 10922, ["", 7002, "b"], ["127.0.0.1", 7005, "e"]],
  ];
  const cases: Case[] = [
    // Keys are ASCII; high bytes and long keys push the CRC through its high bit on every step.
    ...["", "123456789", "\u007f~\u007f", "z".repeat(300), "fs:{sale:flash-1}:stock", "foo{}{bar}", "foo{{bar}}zap", "{fs:config}:sales"].map((k) => ({
      module: "contract.cluster",
      fn: "keySlot",
      args: [k],
    })),
    { module: "contract.cluster", fn: "crc16", args: ["\u007f\u0001~"] },
    ...["a{b}c", "{}", "a{", "x{y}z{w}"].map((k) => ({ module: "contract.cluster", fn: "hashTag", args: [k] })),
    { module: "contract.cluster", fn: "parseClusterSlots", args: [slots, "10.0.0.9"] },
    { module: "contract.cluster", fn: "parseClusterSlots", args: [slots.slice(0, 2), "h"] },
    { module: "contract.cluster", fn: "parseClusterSlots", args: [[], "h"] },
    ...["MOVED 3999 127.0.0.1:6381", "ASK 0 h:1", "MOVED 16384 h:1", "ERR x"].map((e) => ({ module: "contract.cluster", fn: "parseRedirect", args: [e] })),
    ...["h:1,h:2", "h:1,", ""].map((t) => ({ module: "contract.cluster", fn: "parseClusterNodes", args: [t] })),
  ];
  const map = cluster.parseClusterSlots(slots, "10.0.0.9");
  cases.push(...[0, 5460, 5461, 16383, 16384].map((slot) => ({ module: "contract.cluster", fn: "slotOwner", args: [map, slot] })));
  // Stock buckets: the gateway and the control plane must agree on a shopper's bucket and a bucket's keys.
  cases.push(
    ...["u1", "user-42", "~!\u007f", "z".repeat(128)].flatMap((u) => [1, 3, 16].map((k) => ({ module: "contract.buckets", fn: "bucketOfUser", args: [u, k] }))),
    ...[[1, 3], [2, 3], [3, 3], [123456789012345, 7], [5, 1]].map((args) => ({ module: "contract.buckets", fn: "bucketOfOrderNo", args })),
    ...[["hot", 0, 3], ["hot", 1, 3], ["hot", 2, 3], ["flash-1", 15, 16], ["s", 1, 2]].map((args) => ({ module: "contract.buckets", fn: "bucketTag", args })),
  );
  await expectSameInBoth("unused-secret-unused-secret-unused", cases);
});

test("the challenge picture is the same SVG in both, byte for byte, from the same random bytes", async () => {
  // Printable bytes (JSON carries them alike); enough pictures to hit negative and edge coordinates.
  const drawings = Array.from({ length: 40 }, (_, k) => Array.from({ length: 512 }, (_, i) => String.fromCharCode(32 + ((i * 53 + k * 97 + ((i * k) % 31)) % 95))).join(""));
  const answers = ["234678", "999999", "272727", "864392"];
  const cases: Case[] = drawings.map((bytes, k) => ({ module: "contract.challenge_image", fn: "challengeSvgFromBytes", args: [answers[k % answers.length], bytes] }));
  const lua = await runInNginx("unused-secret-unused-secret-unused", cases);
  const node = runInNode("unused-secret-unused-secret-unused", cases);
  expect(lua.length).toBe(drawings.length);
  lua.forEach((svg, i) => expect({ i, svg }).toEqual({ i, svg: node[i] }));
  expect(node.some((svg) => / d="M-|[ LC]-\d/.test(String(svg)))).toBe(true);
});

test("waiting rooms agree: tickets and passes from both HMACs, the same verdicts and the same answers", async () => {
  const secret = "test-secret-test-secret-test-secret-0123456789";
  const mac = nodeJwtPlatform(secret);
  const start = 1_796_000_000_000;
  const exp = start + 30_000;
  const pass = waitingRoom.queuePass("s1", "alice", 12, 1234567, exp, mac);
  const ticket = waitingRoom.queueTicket("s1", "a|x", 12, 99, mac);
  const room = { opensBeforeSeconds: 60, admitPerSecond: 0.3, passSeconds: 30 };
  const state = { admitted: 20, settled: 3, unitsLeft: 10, buyers: 5, expired: 5 };
  const cases: Case[] = [
    ...[0, 1, 99, 1234567890].map((p) => ({ module: "contract.waiting_room", fn: "queueTicket", args: ["s1", "a|x", 12, p], platform: true })),
    { module: "contract.waiting_room", fn: "queuePass", args: ["s1", "alice", 12, 1234567, exp], platform: true },
    ...[ticket, ticket.replace(/^12\.99/, "12.98"), ticket.replace(/^12\./, "13."), "", "12.99.", "12.099." + ticket.split(".")[2]].map((t) => ({ module: "contract.waiting_room", fn: "openQueueTicket", args: [t, "s1", "a|x"], platform: true })),
    ...[
      [pass, "s1", "alice", exp - 1],
      [pass, "s1", "alice", exp],
      [pass, "s2", "alice", start],
      [pass, "s1", "bob", start],
      ["1.2", "s1", "alice", start],
      ["1.2.3", "s1", "alice", start],
      [pass.replace(/^12\./, "13."), "s1", "alice", start],
      [ticket, "s1", "alice", start],
    ].map((args) => ({ module: "contract.waiting_room", fn: "openQueuePass", args, platform: true })),
    ...[start - 60_001, start - 60_000, start, start + 3_600_000].map((t) => ({ module: "contract.waiting_room", fn: "queueWindowAt", args: [{ startsAtMs: start, endsAtMs: start + 3_600_000 }, room, t] })),
    ...[
      ["before_start", undefined, state, undefined, start - 5000, 0.999],
      ["admitting", 3, state, start, start + 1, 0],
      ["admitting", 20, state, start + 1000, start + 2000, 0],
      ["admitting", 20, state, start + 1000, start + 31_000, 0],
      ["admitting", 21, state, undefined, start, 0.5],
      ["admitting", 1001, { ...state, unitsLeft: 11 }, undefined, start, 0.5],
      ["admitting", 21, { ...state, unitsLeft: 0 }, undefined, start, 0],
      ["ended", 21, state, undefined, start, 0],
    ].map(([w, position, st, at, now, jitter]) => ({ module: "contract.waiting_room", fn: "queueAnswer", args: [w, room, start, position, st, at, now, jitter] })),
    ...[0, 3, 4, 9, 10].map((p) => ({ module: "contract.waiting_room", fn: "admittedAt", args: [[3, 5, 9], [100, 200, 300], p] })),
  ];
  await expectSameInBoth(secret, cases);
});
