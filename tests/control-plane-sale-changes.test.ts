/**
 * Changing sales through the admin API against a real Redis (private) and Postgres (a fresh
 * database): update (merge patch), pause, resume, end, delete; the state machine; the refusals
 * that protect a live sale; units left set in Redis to total − taken, atomically with
 * purchases; the audit trail; nothing changed when a change is refused; a change saved while
 * Redis is down answered 503 and applied once Redis answers; applies ordered by revision;
 * deletes refused while orders exist.
 */
import { createLogger, RedisScript, type Redis } from "@flash-sale/node-common";
import { CONFIG_VERSION_KEY, SALE_CONFIGS_KEY, saleKeys } from "@flash-sale/contract/keys";
import { parsePublishedSale, type PublishedSale } from "@flash-sale/contract/sale";
import { APPLY_SALE, LOWER_STOCK } from "@flash-sale/contract/scripts/sale";
import { keepSalesBuiltJob } from "../control-plane/src/jobs/keep-sales-built";
import { SalePublisher } from "../control-plane/src/projection/publisher";
import { SaleRepository } from "../control-plane/src/store/sale-repository";
import { SaleBuilder } from "../control-plane/src/projection/sale-builder";
import { saleInputSchema } from "../control-plane/src/sales/schema";
import { TestStack } from "./support/test-stack";
import { useStack } from "./support/use-stack";
import { buyAll } from "./support/purchase-script";
import { waitFor } from "./support/stream-fixtures";
import { TEST_LIMITS as LIMITS, type ServedApp } from "./support/admin-app";

const ADMIN_TOKEN = "test-admin-token-0123456789abcdef";
/** Run directly to stand for a command Redis runs late (its caller timed out and went on). */
const LOWER = RedisScript.load(LOWER_STOCK);
const APPLY = RedisScript.load(APPLY_SALE);
const HOUR = 3_600_000;

let server: ServedApp;

interface ApiAnswer {
  status: number;
  body: any; // JSON, asserted field by field
}

async function call(method: string, path: string, body?: unknown, headers: Record<string, string> = {}): Promise<ApiAnswer> {
  const res = await fetch(server.url + path, {
    method,
    headers: { authorization: `Bearer ${ADMIN_TOKEN}`, "content-type": "application/json", ...headers },
    body: body === undefined ? undefined : JSON.stringify(body),
  });
  const text = await res.text();
  return { status: res.status, body: text === "" ? undefined : JSON.parse(text) };
}

/** A 409 sale_conflict saying `message`, with the sale's `state`. */
function expectConflict(res: ApiAnswer, message: string, state: string): void {
  expect(res.status).toBe(409);
  expect(res.body).toEqual({ error: "sale_conflict", message, state });
}

/** A sale created (and published) through the API; open now for an hour unless told otherwise. */
async function createSale(id: string, overrides: Record<string, unknown> = {}): Promise<any> {
  const now = Date.now();
  const res = await call("POST", "/admin/api/sales", {
    id,
    name: "Lunar Lamp",
    price: 1999,
    stock: 100,
    startsAt: new Date(now - 60_000).toISOString(),
    endsAt: new Date(now + HOUR).toISOString(),
    deduction: "order",
    ...overrides,
  });
  if (res.status !== 201) throw new Error(`create failed: ${res.status} ${JSON.stringify(res.body)}`);
  return res.body;
}

function scheduled(): Record<string, string> {
  const now = Date.now();
  return { startsAt: new Date(now + HOUR).toISOString(), endsAt: new Date(now + 2 * HOUR).toISOString() };
}

async function publishedRecord(id: string): Promise<PublishedSale | undefined> {
  const json = await stack.redis.hget(SALE_CONFIGS_KEY, id);
  if (json === null) return undefined;
  const sale = parsePublishedSale(JSON.parse(json));
  if (typeof sale === "string") throw new Error(`the gateway refuses field ${sale} of sale ${id}`);
  return sale;
}

async function storedSale(id: string): Promise<any> {
  const res = await stack.db.pool.query("SELECT stock, paused, starts_at, ends_at, published_at, published_version, revision FROM sales WHERE id = $1", [id]);
  return res.rows[0];
}

/** The revision Redis applied to the sale's own keys and to its config record. */
async function appliedRevisions(id: string): Promise<{ meta: number; config: number | undefined }> {
  const json = await stack.redis.hget(SALE_CONFIGS_KEY, id);
  return {
    meta: Number((await stack.redis.hget(saleKeys(id).meta, "revision")) ?? 0),
    config: json === null ? undefined : Number(JSON.parse(json).revision),
  };
}

/** How long a transaction waits to lock the sale's row (FOR UPDATE); "timed out" past `timeoutMs`. */
async function rowLockWait(id: string, timeoutMs: number): Promise<number | "timed out"> {
  const client = await stack.db.pool.connect();
  try {
    await client.query("BEGIN");
    await client.query("SELECT set_config('lock_timeout', $1, true)", [`${timeoutMs}ms`]);
    const started = Date.now();
    try {
      await client.query("SELECT 1 FROM sales WHERE id = $1 FOR UPDATE", [id]);
    } catch (err) {
      if ((err as { code?: string }).code === "55P03") return "timed out"; // lock_not_available
      throw err;
    }
    return Date.now() - started;
  } finally {
    await client.query("ROLLBACK");
    client.release();
  }
}

const silent = createLogger("control-plane-test", "silent");

function publisherOf(repository: SaleRepository): SalePublisher {
  return new SalePublisher(stack.redis, repository, new SaleBuilder(stack.redis, repository, silent));
}

/** One run of the job that applies saved changes (main.ts runs it every second). */
async function runKeepBuilt(): Promise<void> {
  const repository = new SaleRepository(stack.db.pool);
  await keepSalesBuiltJob({ redis: stack.redis, repository, publisher: publisherOf(repository), logger: silent }, "* * * * * *", 10_000).run();
}

async function auditActions(id: string): Promise<string[]> {
  const res = await call("GET", `/admin/api/sales/${id}/audit`);
  return res.body.entries.map((e: { action: string }) => e.action);
}

/** Everything a refused change must leave as it was. */
async function stateOf(id: string): Promise<Record<string, unknown>> {
  return {
    row: await storedSale(id),
    record: await publishedRecord(id),
    version: await stack.redis.get(CONFIG_VERSION_KEY),
    left: await stack.redis.get(saleKeys(id).stock),
    audit: await auditActions(id),
  };
}

const stack = useStack(new TestStack({ name: "control_plane_sale_changes", gateway: false, controlPlane: false }), async () => {
  server = await stack.serveAdminApp({ adminToken: ADMIN_TOKEN });
});

beforeEach(async () => {
  await stack.redis.flushdb();
  await stack.db.pool.query("TRUNCATE orders, sales, sale_audit, sale_reconciliation");
});

describe("PATCH /admin/api/sales/:id", () => {
  it("applies a merge patch, republishes with a new version, moves the stock, and audits who did it", async () => {
    const created = await createSale("lamp", scheduled());
    expect(created.state).toBe("scheduled");
    const res = await call(
      "PATCH",
      "/admin/api/sales/lamp",
      { name: "Lunar Lamp XL", stock: 120, limits: { userBurst: 0 } },
    );
    expect(res.status).toBe(200);
    expect(res.body).toMatchObject({
      id: "lamp",
      name: "Lunar Lamp XL",
      stock: 120,
      price: 1999,
      limits: { ...LIMITS, userBurst: 0 },
      state: "scheduled",
      publishedVersion: created.publishedVersion + 1,
    });
    expect(await publishedRecord("lamp")).toMatchObject({ name: "Lunar Lamp XL", stock: 120, version: res.body.publishedVersion });
    expect(await stack.redis.get(saleKeys("lamp").stock)).toBe("120");

    const audit = (await call("GET", "/admin/api/sales/lamp/audit")).body.entries;
    expect(audit.map((e: any) => [e.action, e.actor])).toEqual([
      ["create", "bootstrap"],
      ["publish", "bootstrap"],
      ["update", "bootstrap"],
    ]);
    expect(audit[2].before).toMatchObject({ name: "Lunar Lamp", stock: 100 });
    expect(audit[2].after).toMatchObject({ name: "Lunar Lamp XL", stock: 120 });
    expect(Date.parse(audit[2].at)).toBeGreaterThan(Date.now() - 60_000);
  });

  it("changes nothing (no version, no audit entry) when the patch changes nothing", async () => {
    await createSale("same");
    const before = await stateOf("same");
    const res = await call("PATCH", "/admin/api/sales/same", { name: "Lunar Lamp", limits: {} });
    expect(res.status).toBe(200);
    expect(await stateOf("same")).toEqual(before);
  });

  it("raises and lowers the stock of a live sale by the change, never below what is sold", async () => {
    await createSale("live", { stock: 100 });
    const keys = saleKeys("live");
    await stack.redis.decrby(keys.stock, 30); // 30 units sold at the gateway
    await stack.redis.incrby(keys.sold, 30);

    const before = await stateOf("live");
    const refused = await call("PATCH", "/admin/api/sales/live", { stock: 29 });
    expect(refused.status).toBe(409);
    expect(refused.body).toEqual({
      error: "stock_below_taken",
      message: "The stock cannot be lowered to 29: 30 units are sold or reserved and 70 are left.",
      fields: [{ path: "stock", message: "must be at least 30: that many units are sold or reserved (70 left)" }],
      unitsLeft: 70,
      unitsTaken: 30,
    });
    expect(await stack.redis.hget(keys.meta, "lowerIntent")).toBeNull();
    expect(await stateOf("live")).toEqual(before);

    expect((await call("PATCH", "/admin/api/sales/live", { stock: 150 })).status).toBe(200);
    expect(await stack.redis.get(keys.stock)).toBe("120");
    expect((await call("PATCH", "/admin/api/sales/live", { stock: 30 })).status).toBe(200);
    expect(await stack.redis.get(keys.stock)).toBe("0");
    expect((await storedSale("live")).stock).toBe(30);
    expect((await publishedRecord("live"))?.stock).toBe(30);
  });

  it("raises the stock atomically with purchases running: left + sold = total throughout", async () => {
    await createSale("busy", { stock: 1000 });
    const keys = saleKeys("busy");
    // Purchases taking a unit the way the purchase script does (one atomic script each).
    const take = "if tonumber(redis.call('GET', KEYS[1])) > 0 then redis.call('DECR', KEYS[1]); redis.call('INCR', KEYS[2]) end";
    const buying = Array.from({ length: 2000 }, () => stack.redis.eval(take, 2, keys.stock, keys.sold));
    const raises = [1100, 1200, 1300, 1400, 1500].map((stock) => call("PATCH", "/admin/api/sales/busy", { stock }));
    await Promise.all([...buying, ...raises]);
    const [left, sold] = (await stack.redis.mget(keys.stock, keys.sold)).map(Number);
    const total = (await storedSale("busy")).stock;
    expect(left! + sold!).toBe(total);
    expect((await publishedRecord("busy"))?.stock).toBe(total);
  });

  it("refuses to move the start of a started sale, with the exact message, and changes nothing", async () => {
    const created = await createSale("started");
    const before = await stateOf("started");
    const res = await call("PATCH", "/admin/api/sales/started", { startsAt: new Date(Date.now() + 60_000).toISOString() });
    expect(res.status).toBe(409);
    expect(res.body.fields).toEqual([{ path: "startsAt", message: `cannot move: the sale started at ${created.startsAt}` }]);
    expect(await stateOf("started")).toEqual(before);
  });

  it("lets a scheduled sale move its start", async () => {
    await createSale("later", scheduled());
    const startsAt = new Date(Date.now() + 30 * 60_000).toISOString();
    const res = await call("PATCH", "/admin/api/sales/later", { startsAt });
    expect(res.status).toBe(200);
    expect((await publishedRecord("later"))?.startsAtMs).toBe(Date.parse(startsAt));
  });

  it.each([
    ["endsAt before startsAt", { endsAt: "2000-01-01T00:00:00Z" }, "endsAt", "must be after startsAt"],
    ["no stock", { stock: 0 }, "stock", "must be a whole number of units, 1 or more"],
    ["a price as text", { price: "9" }, "price", "must be a whole number of minor units (e.g. cents), 0 or more"],
    ["a removed name", { name: null }, "name", "is required"],
    ["an unknown field", { colour: "red" }, "colour", "is not a known field"],
    ["an unknown limit", { limits: { perIp: 1 } }, "limits.perIp", "is not a known field"],
    ["another id", { id: "other" }, "id", "cannot be changed"],
    ["a state", { state: "ended" }, "state", "is not a known field"],
  ])("refuses %s with its exact message and changes nothing", async (_what, patch, path, message) => {
    await createSale("valid");
    const before = await stateOf("valid");
    const res = await call("PATCH", "/admin/api/sales/valid", patch);
    expect(res.status).toBe(400);
    expect(res.body).toEqual({ error: "bad_request", message: `The sale is invalid: ${path}: ${message}.`, fields: [{ path, message }] });
    expect(await stateOf("valid")).toEqual(before);
  });

  it("refuses a body that is not an object", async () => {
    await createSale("valid");
    const res = await call("PATCH", "/admin/api/sales/valid", [1]);
    expect(res.status).toBe(400);
    expect(res.body.fields).toEqual([{ path: "", message: "must be a JSON object" }]);
  });

  it("answers 404 for an unknown sale", async () => {
    const res = await call("PATCH", "/admin/api/sales/nope", { name: "x" });
    expect(res.status).toBe(404);
    expect(res.body.error).toBe("sale_not_found");
  });
});

describe("pause, resume, end", () => {
  it("pauses and resumes, republishing each time; repeating either changes nothing", async () => {
    await createSale("p");
    const paused = await call("POST", "/admin/api/sales/p/pause");
    expect(paused.status).toBe(200);
    expect(paused.body).toMatchObject({ paused: true, state: "paused" });
    expect(await publishedRecord("p")).toMatchObject({ paused: true, version: paused.body.publishedVersion });
    const again = await call("POST", "/admin/api/sales/p/pause");
    expect(again.body.publishedVersion).toBe(paused.body.publishedVersion);

    const resumed = await call("POST", "/admin/api/sales/p/resume");
    expect(resumed.body).toMatchObject({ paused: false, state: "active" });
    expect(await publishedRecord("p")).toMatchObject({ paused: false, version: resumed.body.publishedVersion });
    expect(await auditActions("p")).toEqual(["create", "publish", "pause", "resume"]);
  });

  it("ends a started sale now; it then refuses every change but another end", async () => {
    await createSale("e");
    const before = Date.now();
    const ended = await call("POST", "/admin/api/sales/e/end");
    expect(ended.status).toBe(200);
    expect(ended.body.state).toBe("ended");
    const endsAtMs = Date.parse(ended.body.endsAt);
    expect(endsAtMs).toBeGreaterThanOrEqual(before - 5);
    expect(endsAtMs).toBeLessThanOrEqual(Date.now());
    expect((await publishedRecord("e"))?.endsAtMs).toBe(endsAtMs);

    expect((await call("POST", "/admin/api/sales/e/end")).body.endsAt).toBe(ended.body.endsAt);
    const frozen = await stateOf("e");
    for (const [method, path, body] of [
      ["PATCH", "/admin/api/sales/e", { stock: 500 }],
      ["POST", "/admin/api/sales/e/pause", undefined],
      ["POST", "/admin/api/sales/e/resume", undefined],
    ] as const) {
      const res = await call(method, path, body);
      expectConflict(res, "The sale has ended; it can no longer be changed.", "ended");
    }
    expect(await stateOf("e")).toEqual(frozen);
    expect(await auditActions("e")).toEqual(["create", "publish", "end"]);
  });

  it("refuses to end a sale that has not started", async () => {
    await createSale("s", scheduled());
    const res = await call("POST", "/admin/api/sales/s/end");
    expectConflict(res, "The sale has not started; delete it instead of ending it.", "scheduled");
  });
});

describe("DELETE /admin/api/sales/:id", () => {
  it("deletes a scheduled sale: gone from Postgres and the gateways' configs, its keys dropped, its trail kept", async () => {
    await createSale("gone", scheduled());
    const version = Number(await stack.redis.get(CONFIG_VERSION_KEY));
    const res = await call("DELETE", "/admin/api/sales/gone");
    expect(res.status).toBe(204);
    expect(await storedSale("gone")).toBeUndefined();
    expect(await publishedRecord("gone")).toBeUndefined();
    expect(Number(await stack.redis.get(CONFIG_VERSION_KEY))).toBe(version + 1);
    expect(await stack.redis.exists(...Object.values(saleKeys("gone")))).toBe(0);
    const audit = (await call("GET", "/admin/api/sales/gone/audit")).body.entries;
    expect(audit.map((e: any) => [e.action, e.actor, e.after])).toEqual([
      ["create", "bootstrap", expect.objectContaining({ id: "gone" })],
      ["publish", "bootstrap", expect.objectContaining({ id: "gone", publishedAt: expect.any(String) })],
      ["delete", "bootstrap", null],
    ]);
    expect((await call("GET", "/admin/api/sales/gone")).status).toBe(404);
  });

  it("refuses to delete a started sale and changes nothing", async () => {
    await createSale("running");
    const before = await stateOf("running");
    const res = await call("DELETE", "/admin/api/sales/running");
    expectConflict(res, "The sale has started and may have sold units; end it instead of deleting it.", "active");
    expect(await stateOf("running")).toEqual(before);
  });

  it("answers 404 for an unknown sale, and for the trail of a sale that never was", async () => {
    expect((await call("DELETE", "/admin/api/sales/nope")).status).toBe(404);
    expect((await call("GET", "/admin/api/sales/nope/audit")).status).toBe(404);
  });
});

describe("commit first, apply after", () => {
  it("a draft (a create that died before its publish committed) stays out of Redis until published", async () => {
    const repository = new SaleRepository(stack.db.pool);
    const settings = saleInputSchema({ limits: LIMITS }).parse({ id: "draft", name: "Draft", price: 1, stock: 5, deduction: "order", ...scheduled() });
    await repository.insert("draft", settings, "admin");
    expect((await call("GET", "/admin/api/sales/draft")).body.state).toBe("draft");
    const patched = await call("PATCH", "/admin/api/sales/draft", { stock: 7 });
    expect(patched.body).toMatchObject({ state: "draft", stock: 7, publishedAt: null, publishedVersion: null });
    expect(await stack.redis.keys("*")).toEqual([]);

    const published = await call("POST", "/admin/api/sales/draft/publish");
    expect(published.body).toMatchObject({ built: "first_build" });
    expect((await call("GET", "/admin/api/sales/draft")).body.state).toBe("scheduled");
    expect(await stack.redis.get(saleKeys("draft").stock)).toBe("7");
    expect(await appliedRevisions("draft")).toEqual({ meta: 3, config: 3 });
    expect(await auditActions("draft")).toEqual(["create", "update", "publish"]);
  });

  it("a sale created while Redis is down is saved and published: 503 saying so, applied once Redis answers", async () => {
    await stack.redisServer.stop();
    let res: ApiAnswer;
    try {
      res = await call("POST", "/admin/api/sales", { id: "later", name: "Later", price: 1, stock: 5, deduction: "order", ...scheduled() });
    } finally {
      await stack.redisServer.resume();
      await stack.redis.ping();
    }
    expect(res.status).toBe(503);
    expect(res.body).toEqual({
      error: "unavailable",
      message:
        "The sale is saved and published (revision 2) but not yet applied: Redis did not answer. It reaches the gateways " +
        "when Redis answers (the control plane applies saved changes every second); repeating the call is harmless.",
      retryAfter: 2,
    });
    expect((await call("GET", "/admin/api/sales/later")).body.state).toBe("scheduled");
    expect(await auditActions("later")).toEqual(["create", "publish"]);
    expect(await publishedRecord("later")).toBeUndefined();

    await runKeepBuilt();
    expect(await publishedRecord("later")).toMatchObject({ stock: 5 });
    expect(await stack.redis.get(saleKeys("later").stock)).toBe("5");
    expect(await appliedRevisions("later")).toEqual({ meta: 2, config: 2 });
  }, 30_000); // the client reconnects with a backoff of up to 2 s

  it("saves changes while Redis is down (503 saying so), refuses a lower stock it cannot check, and applies them once Redis answers", async () => {
    await createSale("down", { stock: 100 });
    await buyAll(stack.redis, "down", [{ userId: "early", qty: 1 }], 1);
    const revision = (await storedSale("down")).revision;
    await stack.redisServer.stop(); // not persistent: Redis comes back empty, so the apply is a rebuild
    const answers: ApiAnswer[] = [];
    try {
      for (const [method, path, body] of [
        ["PATCH", "/admin/api/sales/down", { stock: 200 }],
        ["PATCH", "/admin/api/sales/down", { name: "Renamed" }],
        ["POST", "/admin/api/sales/down/pause", undefined],
        ["PATCH", "/admin/api/sales/down", { stock: 150 }],
      ] as const) {
        answers.push(await call(method, path, body));
      }
    } finally {
      await stack.redisServer.resume();
      await stack.redis.ping();
    }
    expect(answers.map((a) => [a.status, a.body.error])).toEqual(Array(4).fill([503, "unavailable"]));
    expect(answers.slice(0, 3).map((a) => a.body.message.split(" (")[0])).toEqual([
      "The change is saved",
      "The change is saved",
      "The pause is saved",
    ]);
    expect(answers[3]!.body.message).toBe("Redis is unreachable; the stock was not changed. Retry later.");
    expect(await storedSale("down")).toMatchObject({ stock: 200, paused: true, revision: String(Number(revision) + 3) });
    expect(await auditActions("down")).toEqual(["create", "publish", "update", "update", "pause"]);

    await runKeepBuilt();
    expect(await publishedRecord("down")).toMatchObject({ name: "Renamed", stock: 200, paused: true });
    expect(await stack.redis.hmget(saleKeys("down").meta, "paused", "revision")).toEqual(["1", String(Number(revision) + 3)]);
    // The order Redis forgot never reached Postgres (no worker here): the rebuild starts from Postgres.
    expect(await stack.redis.get(saleKeys("down").stock)).toBe("200");
  }, 30_000);

  it("holds no row lock across Redis: with Redis frozen after a change's commit, the row locks at once and a newer change commits; at the thaw both answer, the newer applied", async () => {
    await createSale("frozen", { stock: 100 });
    const revision = Number((await storedSale("frozen")).revision);
    const committed = (n: number) => async () => Number((await storedSale("frozen")).revision) === revision + n;
    stack.redisServer.freeze();
    let answers: ApiAnswer[];
    let lockWait: number | "timed out";
    try {
      const first = call("PATCH", "/admin/api/sales/frozen", { stock: 150 });
      await waitFor("the first change committed", committed(1), 5_000);
      lockWait = await rowLockWait("frozen", 1_000);
      const second = call("PATCH", "/admin/api/sales/frozen", { name: "Renamed" });
      await waitFor("the second change committed while Redis is frozen", committed(2), 5_000);
      stack.redisServer.thaw();
      answers = await Promise.all([first, second]);
    } finally {
      stack.redisServer.thaw();
    }
    expect(lockWait).toEqual(expect.any(Number));
    expect(answers.map((a) => a.status)).toEqual([200, 200]);
    expect(await publishedRecord("frozen")).toMatchObject({ name: "Renamed", stock: 150 });
    expect(await appliedRevisions("frozen")).toEqual({ meta: revision + 2, config: revision + 2 });
    expect(await stack.redis.get(saleKeys("frozen").stock)).toBe("150");
    console.log(`row locked ${lockWait} ms after the commit of a change whose apply waited on a frozen Redis`);
  });

  it("sets units left to total − taken whatever Redis held, once per revision, and says when the total is below the units taken", async () => {
    await createSale("absolute", { stock: 10 });
    const k = saleKeys("absolute");
    await buyAll(stack.redis, "absolute", [{ userId: "a", qty: 1 }, { userId: "b", qty: 1 }, { userId: "c", qty: 1 }], 1);
    await stack.redis.decr(k.stock); // a unit lost behind the control plane's back: 6 left, 3 taken
    expect((await call("PATCH", "/admin/api/sales/absolute", { stock: 12 })).status).toBe(200);
    expect(await stack.redis.mget(k.stock, k.sold)).toEqual(["9", "3"]);

    // An apply of an older revision (a late or retried one) writes nothing, anywhere.
    const repository = new SaleRepository(stack.db.pool);
    const publisher = publisherOf(repository);
    const version = await stack.redis.get(CONFIG_VERSION_KEY);
    const old = await repository.withLockedSale("absolute", async (locked) =>
      publisher.apply({ ...locked, sale: { ...locked.sale, stock: 4, paused: true, revision: locked.sale.revision - 1 } }),
    );
    expect(old).toMatchObject({ keys: { kind: "current" }, version: Number(version) });
    expect(await stack.redis.get(k.stock)).toBe("9");
    expect(await publishedRecord("absolute")).toMatchObject({ stock: 12, paused: false });

    // Purchases that slip in between the API's check and the apply: 0 left, reported.
    await stack.redis.incrby(k.sold, 10);
    await stack.redis.decrby(k.stock, 9);
    await stack.db.pool.query("UPDATE sales SET stock = 5, revision = revision + 1 WHERE id = 'absolute'");
    const short = await repository.withLockedSale("absolute", (locked) => publisher.apply(locked));
    expect(short?.keys).toEqual({ kind: "short", unitsTaken: 13, unitsLeftBefore: 0 });
    expect(await stack.redis.get(k.stock)).toBe("0");
  });

  it("takes a lower stock out of Redis before the commit; a lowering that never committed is undone, and no late command undoes or overruns a newer one", async () => {
    await createSale("lowering", { stock: 100 });
    const k = saleKeys("lowering");
    await buyAll(stack.redis, "lowering", Array.from({ length: 10 }, (_, i) => ({ userId: `u${i}`, qty: 1 })), 1);
    const repository = new SaleRepository(stack.db.pool);
    const publisher = publisherOf(repository);
    const r = Number((await storedSale("lowering")).revision);
    const intent = async () => stack.redis.hmget(k.meta, "lowerIntent", "lowerTotal", "lowerRevision");

    // Taken out, not committed (its control plane died): Redis sells on 50, Postgres holds 100.
    const first = await repository.withLockedSale("lowering", (locked) => publisher.lowerStock(locked, 50));
    expect(first).toEqual({ kind: "lowered", intent: expect.any(String), unitsLeft: 40, unitsTaken: 10 });
    const i1 = (first as { intent: string }).intent;
    expect(await intent()).toEqual([i1, "50", String(r + 1)]);
    expect((await storedSale("lowering")).stock).toBe(100);
    // The repair undoes it under the row lock: its revision never committed.
    await runKeepBuilt();
    expect(await stack.redis.get(k.stock)).toBe("90");
    expect(await intent()).toEqual([null, null, null]);

    // Another lowering; then the first one's command, run late by Redis: refused, nothing written.
    const second = await repository.withLockedSale("lowering", (locked) => publisher.lowerStock(locked, 60));
    const i2 = (second as { intent: string }).intent;
    expect(await stack.redis.get(k.stock)).toBe("50");
    expect(await LOWER.run(stack.redis, k, { total: 20, revision: r + 1, intent: i1 })).toEqual({ reply: "other_intent", intent: i2, revision: r + 1 });
    // A late apply naming the first intent undoes nothing: the second is not named.
    expect(await APPLY.run(stack.redis, k, { revision: r, total: 100, startsAt: 0, endsAt: 9e12, paused: "0", undoIntent: i1 })).toEqual({ reply: "already_applied", revision: r });
    expect(await stack.redis.get(k.stock)).toBe("50");

    // The API lowers to 70: the second intent (never committed) is undone under the lock, then 70 taken out and committed.
    expect((await call("PATCH", "/admin/api/sales/lowering", { stock: 70 })).status).toBe(200);
    expect(await stack.redis.mget(k.stock, k.sold)).toEqual(["60", "10"]);
    expect(await intent()).toEqual([null, null, null]);
    expect(await appliedRevisions("lowering")).toEqual({ meta: r + 1, config: r + 1 });
    // Its own command run again late: that revision is applied, nothing written.
    expect(await LOWER.run(stack.redis, k, { total: 20, revision: r + 1, intent: "late" })).toEqual({ reply: "already_applied", revision: r + 1 });

    // A change committed but not yet applied (revision r+2), then a lowering from it (r+3): the
    // late apply of r+2 keeps units left within the lowering; the apply of r+3 clears it.
    await stack.db.pool.query("UPDATE sales SET paused = true, revision = revision + 1 WHERE id = 'lowering'");
    const third = await repository.withLockedSale("lowering", (locked) => publisher.lowerStock(locked, 30));
    expect(third).toMatchObject({ kind: "lowered", unitsLeft: 20 });
    const applied = { reply: "applied", left: 20, taken: 10, leftBefore: 20 };
    expect(await APPLY.run(stack.redis, k, { revision: r + 2, total: 70, startsAt: 0, endsAt: 9e12, paused: "1", undoIntent: "" })).toEqual(applied);
    expect(await stack.redis.hmget(k.meta, "paused", "revision", "lowerTotal")).toEqual(["1", String(r + 2), "30"]);
    expect(await APPLY.run(stack.redis, k, { revision: r + 3, total: 30, startsAt: 0, endsAt: 9e12, paused: "1", undoIntent: "" })).toEqual(applied);
    expect(await intent()).toEqual([null, null, null]);

    // Below the units taken: 409 with how many are left and taken, nothing written.
    await stack.db.pool.query("UPDATE sales SET stock = 30, revision = revision + 1 WHERE id = 'lowering'");
    await runKeepBuilt();
    const before = await stateOf("lowering");
    const refused = await call("PATCH", "/admin/api/sales/lowering", { stock: 9 });
    expect(refused).toMatchObject({ status: 409, body: { error: "stock_below_taken", unitsLeft: 20, unitsTaken: 10 } });
    expect(await stateOf("lowering")).toEqual(before);
    expect(await intent()).toEqual([null, null, null]);
  });

  it("re-applies a sale whose Redis revision is behind Postgres, and leaves a current one alone", async () => {
    await createSale("behind", { stock: 10 });
    const k = saleKeys("behind");
    // A change committed by a control plane that died before applying it.
    await stack.db.pool.query("UPDATE sales SET stock = 15, paused = true, revision = revision + 1 WHERE id = 'behind'");
    const revision = Number((await storedSale("behind")).revision);
    await runKeepBuilt();
    expect(await appliedRevisions("behind")).toEqual({ meta: revision, config: revision });
    expect(await stack.redis.hget(k.meta, "paused")).toBe("1");
    expect(await stack.redis.get(k.stock)).toBe("15");
    const version = await stack.redis.get(CONFIG_VERSION_KEY);
    await runKeepBuilt();
    expect(await stack.redis.get(CONFIG_VERSION_KEY)).toBe(version);
  });

  it("an apply out of the lock that finds its sale deleted since the commit withdraws the config record it wrote", async () => {
    await createSale("deleted-late", scheduled());
    const repository = new SaleRepository(stack.db.pool);
    const sale = (await repository.find("deleted-late"))!;
    // The delete, Redis first then its commit, ran between this apply's sale keys and its config record.
    await stack.db.pool.query("DELETE FROM sales WHERE id = 'deleted-late'");
    expect(await publisherOf(repository).applyCommitted({ ...sale, name: "Late", revision: sale.revision + 1 })).toBeUndefined();
    expect(await publishedRecord("deleted-late")).toBeUndefined();
  });
});

describe("DELETE while orders exist", () => {
  it("refuses while Postgres holds orders of the sale, and changes nothing", async () => {
    await createSale("drained", scheduled());
    await stack.db.pool.query(
      `INSERT INTO orders (order_id, sale_id, order_no, user_id, user_units, quantity, accepted_at, epoch, price, currency)
       VALUES ('drained.1.1', 'drained', 1, 'u1', 1, 1, now(), 1, 199, 'USD')`,
    );
    const before = await stateOf("drained");
    const res = await call("DELETE", "/admin/api/sales/drained");
    expectConflict(res, "Postgres holds 1 orders of the sale; it cannot be deleted.", "scheduled");
    expect(await stateOf("drained")).toEqual(before);
  });

  it("refuses while Redis holds orders not yet in Postgres (a window Redis judged open), and changes nothing", async () => {
    await createSale("stale", scheduled());
    const k = saleKeys("stale");
    // Redis opened the sale already (a publish that reached Redis before its commit, in the
    // old order of things): two orders, waiting in the stream.
    await stack.redis.hset(k.meta, "startsAt", Date.now() - 60_000);
    expect(await buyAll(stack.redis, "stale", [{ userId: "a", qty: 1 }, { userId: "b", qty: 1 }], 1)).toHaveLength(2);
    const before = { ...(await stateOf("stale")), keys: (await stack.redis.keys("*{sale:stale}*")).sort(), stream: await stack.redis.xlen(k.stream) };
    const res = await call("DELETE", "/admin/api/sales/stale");
    expectConflict(res, "Redis holds orders of the sale (2 orders, 2 order numbers handed out, 2 not yet in Postgres); it cannot be deleted.", "scheduled");
    expect({ ...(await stateOf("stale")), keys: (await stack.redis.keys("*{sale:stale}*")).sort(), stream: await stack.redis.xlen(k.stream) }).toEqual(before);
    expect(before.stream).toBe(2);
  });
});

describe("authentication and the actor header", () => {
  it("refuses every change route without the admin token, and changes nothing", async () => {
    await createSale("guarded", scheduled());
    const before = await stateOf("guarded");
    for (const [method, path] of [
      ["PATCH", "/admin/api/sales/guarded"],
      ["DELETE", "/admin/api/sales/guarded"],
      ["POST", "/admin/api/sales/guarded/pause"],
      ["POST", "/admin/api/sales/guarded/resume"],
      ["POST", "/admin/api/sales/guarded/end"],
      ["GET", "/admin/api/sales/guarded/audit"],
    ]) {
      const res = await fetch(`${server.url}${path}`, {
        method,
        headers: { authorization: "Bearer wrong", "content-type": "application/json" },
        body: method === "PATCH" ? JSON.stringify({ stock: 1 }) : undefined,
      });
      expect(res.status).toBe(401);
    }
    expect(await stateOf("guarded")).toEqual(before);
  });

  it("records the authenticated identity, whatever name X-Admin-Actor claims", async () => {
    await createSale("named", scheduled());
    const res = await call("POST", "/admin/api/sales/named/pause", undefined, { "x-admin-actor": "someone-else" });
    expect(res.status).toBe(200);
    const audit = (await call("GET", "/admin/api/sales/named/audit")).body.entries;
    expect(audit.map((e: any) => e.actor)).toEqual(["bootstrap", "bootstrap", "bootstrap"]);
  });
});
