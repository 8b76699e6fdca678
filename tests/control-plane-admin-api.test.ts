/**
 * The admin API against a real Redis (private) and a real Postgres (a fresh database):
 * create and publish, republish without touching live stock, validation, the admin token,
 * live stats.
 */
import type { Redis } from "@flash-sale/node-common";
import { CONFIG_VERSION_KEY, ORDER_CONSUMER_GROUP, SALE_CONFIGS_KEY, saleKeys } from "@flash-sale/contract/keys";
import { parsePublishedSale, type PublishedSale } from "@flash-sale/contract/sale";
import { TestStack } from "./support/test-stack";
import { useStack } from "./support/use-stack";
import { TEST_LIMITS as DEFAULT_LIMITS, type ServedApp } from "./support/admin-app";

const ADMIN_TOKEN = "test-admin-token-0123456789abcdef";

let server: ServedApp;

interface ApiAnswer {
  status: number;
  headers: Headers;
  body: any; // JSON, asserted field by field
}

interface CallOptions {
  body?: unknown;
  /** Sent as is, for bodies that are not JSON. */
  rawBody?: string;
  /** The Authorization header; null leaves it out. */
  authorization?: string | null;
}

async function call(method: string, path: string, opts: CallOptions = {}): Promise<ApiAnswer> {
  const headers: Record<string, string> = { "content-type": "application/json" };
  const authorization = opts.authorization === undefined ? `Bearer ${ADMIN_TOKEN}` : opts.authorization;
  if (authorization !== null) headers.authorization = authorization;
  const body = opts.rawBody ?? (opts.body === undefined ? undefined : JSON.stringify(opts.body));
  const res = await fetch(server.url + path, { method, headers, body });
  const text = await res.text();
  return { status: res.status, headers: res.headers, body: text === "" ? undefined : JSON.parse(text) };
}

function validSale(overrides: Record<string, unknown> = {}): Record<string, unknown> {
  return {
    name: "Lunar Lamp",
    price: 1999,
    stock: 100,
    startsAt: "2030-01-01T12:00:00Z",
    endsAt: "2030-01-01T12:10:00Z",
    deduction: "order",
    ...overrides,
  };
}

async function publishedRecord(id: string): Promise<PublishedSale> {
  const json = await stack.redis.hget(SALE_CONFIGS_KEY, id);
  if (json === null) throw new Error(`sale ${id} is not published`);
  const sale = parsePublishedSale(JSON.parse(json));
  if (typeof sale === "string") throw new Error(`the gateway refuses field ${sale} of sale ${id}`);
  return sale;
}

async function salesInPostgres(): Promise<number> {
  const result = await stack.db.pool.query<{ n: number }>("SELECT count(*)::int AS n FROM sales");
  return result.rows[0]?.n ?? -1;
}

async function expectNothingWritten(): Promise<void> {
  expect(await salesInPostgres()).toBe(0);
  expect(await stack.redis.dbsize()).toBe(0);
}

async function resetStores(): Promise<void> {
  await stack.redis.flushdb();
  await stack.db.pool.query("TRUNCATE orders, sales");
}

const stack = useStack(new TestStack({ name: "control_plane_admin_api", gateway: false, controlPlane: false }), async () => {
  server = await stack.serveAdminApp({ adminToken: ADMIN_TOKEN });
});

beforeEach(resetStores);

describe("POST /admin/api/sales", () => {
  it("stores the sale and publishes it: record, version, stock, consumer group", async () => {
    const res = await call("POST", "/admin/api/sales", { body: validSale({ id: "lunar-lamp" }) });
    expect(res.status).toBe(201);
    expect(res.headers.get("location")).toBe("/admin/api/sales/lunar-lamp");
    expect(res.body).toMatchObject({
      id: "lunar-lamp",
      currency: "USD",
      perUserLimit: 1,
      challenge: false,
      paused: false,
      limits: DEFAULT_LIMITS,
      startsAt: "2030-01-01T12:00:00.000Z",
    });
    expect(res.body.publishedVersion).toBeGreaterThanOrEqual(1);

    const row = await stack.db.pool.query("SELECT name, price, stock, published_version FROM sales WHERE id = $1", ["lunar-lamp"]);
    expect(row.rows).toEqual([{ name: "Lunar Lamp", price: 1999, stock: 100, published_version: String(res.body.publishedVersion) }]);

    const record = await publishedRecord("lunar-lamp");
    expect(record).toMatchObject({
      id: "lunar-lamp",
      price: 1999,
      stock: 100,
      deduction: "order",
      startsAtMs: Date.parse("2030-01-01T12:00:00Z"),
      endsAtMs: Date.parse("2030-01-01T12:10:00Z"),
      limits: DEFAULT_LIMITS,
    });
    expect(record.version).toBeGreaterThanOrEqual(1);
    expect(record.version).toBe(res.body.publishedVersion);
    expect(Number(await stack.redis.get(CONFIG_VERSION_KEY))).toBe(record.version);

    const keys = saleKeys("lunar-lamp");
    expect(await stack.redis.get(keys.stock)).toBe("100");
    const groups = (await stack.redis.xinfo("GROUPS", keys.stream)) as unknown[][];
    expect(groups.map((g) => g[g.indexOf("name") + 1])).toEqual([ORDER_CONSUMER_GROUP]);
  });

  it("makes the id from the name when none is given, and keeps given settings", async () => {
    const res = await call("POST", "/admin/api/sales", {
      body: validSale({
        name: "Crème Brûlée Day!",
        currency: "EUR",
        perUserLimit: 2,
        limits: { userBurst: 0 },
        startsAt: "2030-01-01T20:00:00+08:00",
      }),
    });
    expect(res.status).toBe(201);
    expect(res.body.id).toBe("creme-brulee-day");
    const record = await publishedRecord("creme-brulee-day");
    expect(record).toMatchObject({
      currency: "EUR",
      perUserLimit: 2,
      startsAt: "2030-01-01T12:00:00.000Z",
      limits: { ...DEFAULT_LIMITS, userBurst: 0 },
    });
  });

  it("gives a sale whose name repeats an id of its own", async () => {
    const first = await call("POST", "/admin/api/sales", { body: validSale({ name: "Flash Friday" }) });
    const second = await call("POST", "/admin/api/sales", { body: validSale({ name: "Flash Friday" }) });
    expect([first.status, second.status]).toEqual([201, 201]);
    expect(first.body.id).toBe("flash-friday");
    expect(second.body.id).toMatch(/^flash-friday-[0-9a-f]{6}$/);
    expect((await publishedRecord(second.body.id)).name).toBe("Flash Friday");
  });

  it("refuses an id that is already taken, and leaves the first sale as it was", async () => {
    expect((await call("POST", "/admin/api/sales", { body: validSale({ id: "taken" }) })).status).toBe(201);
    const versionBefore = await stack.redis.get(CONFIG_VERSION_KEY);
    const res = await call("POST", "/admin/api/sales", { body: validSale({ id: "taken", price: 1 }) });
    expect(res.status).toBe(400);
    expect(res.body.fields).toEqual([{ path: "id", message: expect.stringMatching(/already taken/) }]);
    expect((await publishedRecord("taken")).price).toBe(1999);
    expect(await stack.redis.get(CONFIG_VERSION_KEY)).toBe(versionBefore);
  });
});

describe("POST /admin/api/sales/:id/publish", () => {
  it("bumps the version and keeps the units taken of a sale in progress", async () => {
    const created = await call("POST", "/admin/api/sales", { body: validSale({ id: "in-progress" }) });
    expect(created.status).toBe(201);
    const keys = saleKeys("in-progress");
    await stack.redis.decr(keys.stock); // a unit sold since the first publish
    await stack.redis.incr(keys.sold);

    const res = await call("POST", "/admin/api/sales/in-progress/publish");
    expect(res.status).toBe(200);
    expect(res.body).toEqual({ id: "in-progress", version: created.body.publishedVersion + 1 }); // built already: not rebuilt
    expect((await publishedRecord("in-progress")).version).toBe(res.body.version);
    expect(await stack.redis.get(keys.stock)).toBe("99");
    const row = await stack.db.pool.query("SELECT published_version FROM sales WHERE id = 'in-progress'");
    expect(row.rows[0].published_version).toBe(String(res.body.version));
  });

  it("rebuilds the sale's state when Redis lost it (from Postgres: no orders here, so the whole stock)", async () => {
    expect((await call("POST", "/admin/api/sales", { body: validSale({ id: "reloaded", stock: 7 }) })).status).toBe(201);
    await stack.redis.flushdb();
    const res = await call("POST", "/admin/api/sales/reloaded/publish");
    expect(res.body).toMatchObject({ built: "state_missing" });
    expect(await stack.redis.get(saleKeys("reloaded").stock)).toBe("7");
    expect((await publishedRecord("reloaded")).version).toBe(res.body.version);
  });

  it("answers 404 sale_not_found for an unknown sale and writes nothing", async () => {
    const res = await call("POST", "/admin/api/sales/nope/publish");
    expect(res.status).toBe(404);
    expect(res.body).toEqual({ error: "sale_not_found", message: "No such sale." });
    await expectNothingWritten();
  });
});

describe("validation", () => {
  const cases: [string, Record<string, unknown>, string, RegExp][] = [
    ["endsAt before startsAt", { endsAt: "2030-01-01T11:59:59Z" }, "endsAt", /must be after startsAt/],
    ["endsAt equal to startsAt", { endsAt: "2030-01-01T12:00:00Z" }, "endsAt", /must be after startsAt/],
    ["a negative price", { price: -1 }, "price", /whole number of minor units/],
    ["a fractional price", { price: 19.99 }, "price", /whole number of minor units/],
    ["a price as text", { price: "1999" }, "price", /whole number of minor units/],
    ["a lowercase currency", { currency: "usd" }, "currency", /ISO 4217/],
    ["no stock", { stock: 0 }, "stock", /1 or more/],
    ["a bad id", { id: "Bad_Id!" }, "id", /a-z, 0-9 and "-"/],
    ["an id starting with -", { id: "-sale" }, "id", /not starting with "-"/],
    ["an unknown deduction", { deduction: "later" }, "deduction", /must be one of "order", "payment", "reserve"/],
    ["deduction reserve without a payment timeout", { deduction: "reserve" }, "paymentTimeoutSeconds", /is required with this deduction/],
    ["deduction payment without a payment timeout", { deduction: "payment", limits: { openUnpaidOrders: 10 } }, "paymentTimeoutSeconds", /is required with this deduction/],
    [
      "deduction payment without a bound on open unpaid orders",
      { deduction: "payment", paymentTimeoutSeconds: 300 },
      "limits.openUnpaidOrders",
      /is required with deduction "payment"/,
    ],
    ["a bound on open unpaid orders with deduction order", { limits: { openUnpaidOrders: 10 } }, "limits.openUnpaidOrders", /only applies to it/],
    [
      "a bound of 0 open unpaid orders",
      { deduction: "payment", paymentTimeoutSeconds: 300, limits: { openUnpaidOrders: 0 } },
      "limits.openUnpaidOrders",
      /1 or more/,
    ],
    ["no deduction", { deduction: undefined }, "deduction", /is required/],
    ["a challenge that is not a boolean", { challenge: "yes" }, "challenge", /true or false/],
    ["a payment timeout with deduction order", { paymentTimeoutSeconds: 300 }, "paymentTimeoutSeconds", /only applies to deduction/],
    ["an empty name", { name: "   " }, "name", /must not be empty/],
    ["no name", { name: undefined }, "name", /is required/],
    ["a date without a zone", { startsAt: "2030-01-01T12:00:00" }, "startsAt", /ISO 8601/],
    ["a date that does not exist", { startsAt: "2030-02-30T12:00:00Z" }, "startsAt", /ISO 8601/],
    ["a per-user limit of 0", { perUserLimit: 0 }, "perUserLimit", /1 or more/],
    ["a zero rate", { limits: { userRatePerSecond: 0 } }, "limits.userRatePerSecond", /at least 0.01/],
    ["a rate of 1e-300", { limits: { admitPerSecond: 1e-300 } }, "limits.admitPerSecond", /at least 0.01/],
    ["a fractional burst", { limits: { userBurst: 1.5 } }, "limits.userBurst", /whole number/],
    ["an unknown limit", { limits: { perIp: 3 } }, "limits.perIp", /is not a known field/],
    ["an unknown field", { colour: "red" }, "colour", /is not a known field/],
  ];

  it.each(cases)("refuses %s with its message and writes nothing", async (_what, overrides, path, message) => {
    const res = await call("POST", "/admin/api/sales", { body: validSale(overrides) });
    expect(res.status).toBe(400);
    expect(res.body).toEqual({
      error: "bad_request",
      message: expect.stringContaining(path),
      fields: [{ path, message: expect.stringMatching(message) }],
    });
    await expectNothingWritten();
  });

  it("lists every bad field at once", async () => {
    const res = await call("POST", "/admin/api/sales", { body: validSale({ price: -1, stock: 0, currency: "usd" }) });
    expect(res.status).toBe(400);
    expect(res.body.fields.map((f: { path: string }) => f.path).sort()).toEqual(["currency", "price", "stock"]);
    await expectNothingWritten();
  });

  it.each([
    ["not JSON", "{name:", /not valid JSON/],
    ["not an object", "[1, 2]", /must be a JSON object/],
    ["empty", "", /name: is required/],
  ])("refuses a body that is %s", async (_what, rawBody, message) => {
    const res = await call("POST", "/admin/api/sales", { rawBody });
    expect(res.status).toBe(400);
    expect(res.body.error).toBe("bad_request");
    expect(res.body.message).toMatch(message);
    await expectNothingWritten();
  });

  it("refuses a body over 64 kB with 413 payload_too_large", async () => {
    const res = await call("POST", "/admin/api/sales", { body: validSale({ name: "x".repeat(70 * 1024) }) });
    expect(res.status).toBe(413);
    expect(res.body).toEqual({ error: "payload_too_large", message: "The request body is too large." });
    await expectNothingWritten();
  });
});

describe("the admin token", () => {
  const badAuthorizations: [string, string | null][] = [
    ["no Authorization header", null],
    ["a wrong token of the same length", `Bearer ${"x".repeat(ADMIN_TOKEN.length)}`],
    ["a wrong token of another length", "Bearer nope"],
    ["the token with a prefix", `Bearer x${ADMIN_TOKEN}`],
    ["another scheme", `Basic ${ADMIN_TOKEN}`],
    ["an empty bearer", "Bearer "],
  ];

  it.each(badAuthorizations)("answers 401 to %s and writes nothing", async (_what, authorization) => {
    for (const [method, path] of [
      ["POST", "/admin/api/sales"],
      ["GET", "/admin/api/sales"],
      ["GET", "/admin/api/sales/any"],
      ["POST", "/admin/api/sales/any/publish"],
      ["GET", "/admin/api/unknown"],
    ] as const) {
      const res = await call(method, path, { authorization, body: method === "POST" ? validSale() : undefined });
      expect(res.status).toBe(401);
      expect(res.body).toEqual({ error: "unauthorized", message: expect.stringMatching(/admin credential is required/) });
      expect(res.headers.get("www-authenticate")).toMatch(/^Bearer/);
    }
    await expectNothingWritten();
  });

  it("accepts the scheme in any case", async () => {
    const res = await call("GET", "/admin/api/sales", { authorization: `bearer ${ADMIN_TOKEN}` });
    expect(res.status).toBe(200);
  });
});

describe("GET /admin/api/sales/:id", () => {
  it("shows the sale with live stats from Redis and Postgres", async () => {
    expect((await call("POST", "/admin/api/sales", { body: validSale({ id: "live", stock: 10 }) })).status).toBe(201);
    const keys = saleKeys("live");
    // Three units taken at the gateway; the order worker has persisted one order of them.
    await stack.redis.decrby(keys.stock, 3);
    await stack.redis.incrby(keys.sold, 3);
    await stack.db.pool.query(
      `INSERT INTO orders (order_id, sale_id, order_no, user_id, user_units, quantity, accepted_at, price, currency)
       VALUES ('live.1', 'live', 1, 'alice', 1, 1, now(), 1999, 'USD')`,
    );

    const res = await call("GET", "/admin/api/sales/live");
    expect(res.status).toBe(200);
    expect(res.body).toMatchObject({ id: "live", stock: 10, deduction: "order" });
    expect(res.body.stats).toEqual({ unitsLeft: 7, unitsSold: 3, unitsPaid: 0, ordersOpenUnpaid: 0, ordersPersisted: 1, unitsPersisted: 1, appliedRevision: 2, reconciliation: null });
  });

  it("shows unitsLeft null when the stock is not loaded", async () => {
    expect((await call("POST", "/admin/api/sales", { body: validSale({ id: "unloaded" }) })).status).toBe(201);
    await stack.redis.flushdb();
    const res = await call("GET", "/admin/api/sales/unloaded");
    expect(res.body.stats).toEqual({ unitsLeft: null, unitsSold: 0, unitsPaid: 0, ordersOpenUnpaid: 0, ordersPersisted: 0, unitsPersisted: 0, appliedRevision: null, reconciliation: null });
  });

  it("answers 404 sale_not_found for an unknown sale", async () => {
    const res = await call("GET", "/admin/api/sales/nope");
    expect(res.status).toBe(404);
    expect(res.body).toEqual({ error: "sale_not_found", message: "No such sale." });
  });
});

describe("the rest of the app", () => {
  it("lists the sales, the soonest first", async () => {
    await call("POST", "/admin/api/sales", { body: validSale({ id: "later", startsAt: "2031-01-01T00:00:00Z", endsAt: "2031-01-02T00:00:00Z" }) });
    await call("POST", "/admin/api/sales", { body: validSale({ id: "sooner" }) });
    const res = await call("GET", "/admin/api/sales");
    expect(res.status).toBe(200);
    expect(res.body.sales.map((s: { id: string }) => s.id)).toEqual(["sooner", "later"]);
  });

  it("answers 404 not_found on an unknown route", async () => {
    const res = await call("GET", "/admin/api/nothing-here");
    expect(res.status).toBe(404);
    expect(res.body).toEqual({ error: "not_found", message: "No such resource." });
  });

  it("answers /healthz without a token", async () => {
    const res = await call("GET", "/healthz", { authorization: null });
    expect(res.status).toBe(200);
    expect(res.body).toEqual({ status: "ok" });
  });
});

describe("while Redis is down", () => {
  it("keeps a created sale in Postgres, published, answers 503 saying so, and publishes it again once Redis is back", async () => {
    await stack.redisServer.stop();
    try {
      const res = await call("POST", "/admin/api/sales", { body: validSale({ id: "saved-first" }) });
      expect(res.status).toBe(503);
      expect(res.body).toEqual({
        error: "unavailable",
        message: expect.stringMatching(/^The sale is saved and published \(revision 2\) but not yet applied: Redis did not answer\./),
        retryAfter: 2,
      });
      expect(await salesInPostgres()).toBe(1);
      expect((await call("GET", "/healthz", { authorization: null })).status).toBe(503);
    } finally {
      await stack.redisServer.resume();
      await stack.redis.ping(); // reconnected
    }
    const published = await call("POST", "/admin/api/sales/saved-first/publish");
    expect(published.body).toMatchObject({ id: "saved-first", built: "first_build" });
    expect((await publishedRecord("saved-first")).version).toBe(published.body.version);
  });
});
