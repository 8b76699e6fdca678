/**
 * What the order-worker tests and the drain benchmark share: publishing a sale the way the
 * control plane does (Postgres row, config in Redis, stock), running the worker as a child
 * process, and measuring how far the drain got.
 */
import { spawn, type ChildProcess } from "node:child_process";
import { existsSync } from "node:fs";
import path from "node:path";
import { SALE_CONFIGS_KEY, ORDER_CONSUMER_GROUP, orderStatusField, saleKeys } from "@flash-sale/contract/keys";
import type { Deduction, PublishedSale } from "@flash-sale/contract/sale";
import { ORDER_FIELDS } from "@flash-sale/contract/stream";
import { streamGroup, type Pool, type Redis } from "@flash-sale/node-common";
import type { AcceptedOrder } from "./purchase-script";

/** The repository root, found from here (these files also run compiled, from bench/build/). */
export const REPO_ROOT = ((): string => {
  for (let dir = __dirname; dir !== path.dirname(dir); dir = path.dirname(dir)) {
    if (existsSync(path.join(dir, "order-worker", "package.json"))) return dir;
  }
  throw new Error(`no repository root above ${__dirname}`);
})();

export interface SaleSpec {
  id: string;
  stock: number;
  perUserLimit: number;
  /** `order` unless told; `reserve` and `payment` sales get a payment timeout of a minute. */
  deduction?: Deduction;
}

const PAYMENT_TIMEOUT_SECONDS = 60;

/** The sale's row in Postgres (the orders' foreign key needs it). */
export async function insertSaleRow(pool: Pool, sale: SaleSpec): Promise<void> {
  await pool.query(
    `INSERT INTO sales (id, name, price, currency, stock, starts_at, ends_at, per_user_limit, deduction, payment_timeout_seconds, limits)
     VALUES ($1, $2, 100, 'USD', $3, now() - interval '1 minute', now() + interval '1 hour', $4, $5, $6, $7)`,
    [
      sale.id, `Sale ${sale.id}`, sale.stock, sale.perUserLimit, sale.deduction ?? "order",
      (sale.deduction ?? "order") === "order" ? null : PAYMENT_TIMEOUT_SECONDS,
      { userRatePerSecond: 5, userBurst: 5, admitPerSecond: 5000 },
    ],
  );
}

/** The epoch fixtures build their sales with (the control plane's builder takes one from Postgres). */
export const FIXTURE_EPOCH = 1;

/** The run id of the Redis process `redis` is connected to (the fence names it). */
export async function redisRunId(redis: Redis): Promise<string> {
  const match = /run_id:([0-9a-f]+)/.exec(await redis.info("server"));
  if (match === null) throw new Error("INFO server has no run_id");
  return match[1]!;
}

/**
 * The published config (the worker lists sales from this hash), the preloaded stock, counters,
 * fence and window the control plane's builder writes (redis-scripts/open-sale.lua).
 */
export async function publishSaleConfig(redis: Redis, sale: SaleSpec): Promise<void> {
  const now = Date.now();
  const record: PublishedSale = {
    id: sale.id,
    name: `Sale ${sale.id}`,
    price: 100,
    currency: "USD",
    stock: sale.stock,
    startsAt: new Date(now - 60_000).toISOString(),
    endsAt: new Date(now + 3_600_000).toISOString(),
    startsAtMs: now - 60_000,
    endsAtMs: now + 3_600_000,
    perUserLimit: sale.perUserLimit,
    deduction: sale.deduction ?? "order",
    ...((sale.deduction ?? "order") === "order" ? {} : { paymentTimeoutSeconds: PAYMENT_TIMEOUT_SECONDS }),
    challenge: false,
    paused: false,
    limits: { userRatePerSecond: 5, userBurst: 5, admitPerSecond: 5000 },
    stockBuckets: 1,
    version: 1,
  };
  await redis.hset(SALE_CONFIGS_KEY, sale.id, JSON.stringify(record));
  const k = saleKeys(sale.id);
  await redis.mset(k.stock, sale.stock, k.sold, 0, k.orderSeq, 0);
  await redis.hset(k.meta, "fence", `${await redisRunId(redis)}:${FIXTURE_EPOCH}`, "startsAt", record.startsAtMs, "endsAt", record.endsAtMs, "paused", "0", "revision", 1);
}

export async function publishSale(pool: Pool, redis: Redis, sale: SaleSpec): Promise<void> {
  await insertSaleRow(pool, sale);
  await publishSaleConfig(redis, sale);
}

export interface WorkerExit {
  code: number | null;
  signal: NodeJS.Signals | null;
}

/** A child's pino line, parsed (a line that is no JSON as its `msg`). */
export type LogLine = { msg?: string; level?: number; [field: string]: unknown };

/** Collects a child's stdout into `logs`, a line at a time, as it arrives. */
export function collectLogLines(child: ChildProcess, logs: LogLine[]): void {
  let partial = "";
  child.stdout?.setEncoding("utf8").on("data", (chunk: string) => {
    const lines = (partial + chunk).split("\n");
    partial = lines.pop() ?? "";
    for (const line of lines) {
      try {
        logs.push(JSON.parse(line) as LogLine);
      } catch {
        logs.push({ msg: line });
      }
    }
  });
}

export interface WorkerProcess {
  child: ChildProcess;
  /** The worker's pino lines, parsed, as they arrive. */
  logs: LogLine[];
  stderr: () => string;
  exited: Promise<WorkerExit>;
  /** Sends SIGTERM and waits for the exit. */
  stop: () => Promise<WorkerExit>;
  /** GET …/metrics of this worker, once it logged the port it listens on. */
  metricsUrl: () => string | undefined;
}

export interface WorkerSettings {
  redisUrl: string;
  databaseUrl: string;
  name: string;
  batchSize?: number;
  /** Extra variables, e.g. FS_WORKER_FAULT, FS_REDIS_CLUSTER_NODES. */
  env?: Record<string, string>;
}

/** Starts `node order-worker/build/main.js` with short timings, as the tests want them. */
export function startWorker(s: WorkerSettings): WorkerProcess {
  const child = spawn(process.execPath, [path.join(REPO_ROOT, "order-worker/build/main.js")], {
    cwd: REPO_ROOT,
    env: {
      ...process.env,
      FS_REDIS_URL: s.redisUrl,
      FS_REDIS_CLUSTER_NODES: "",
      FS_DATABASE_URL: s.databaseUrl,
      FS_WORKER_NAME: s.name,
      FS_WORKER_BATCH_SIZE: String(s.batchSize ?? 50),
      FS_WORKER_BLOCK_MS: "200",
      FS_WORKER_CLAIM_IDLE_MS: "500",
      FS_WORKER_BACKOFF_MAX_MS: "1000",
      FS_LOG_LEVEL: "info",
      FS_WORKER_FAULT: "",
      // Any free port: several workers may run at once.
      FS_WORKER_METRICS_PORT: "0",
      ...s.env,
    },
    stdio: ["ignore", "pipe", "pipe"],
  });
  const logs: LogLine[] = [];
  collectLogLines(child, logs);
  let errText = "";
  child.stderr?.setEncoding("utf8").on("data", (chunk: string) => (errText += chunk));
  const exited = new Promise<WorkerExit>((resolve) => child.once("exit", (code, signal) => resolve({ code, signal })));
  return {
    child,
    logs,
    stderr: () => errText,
    exited,
    stop: () => {
      if (child.exitCode === null && child.signalCode === null) child.kill("SIGTERM");
      return exited;
    },
    metricsUrl: () => {
      const line = logs.find((l) => l.msg === "metrics listening");
      return line === undefined ? undefined : `http://127.0.0.1:${String(line.port)}/metrics`;
    },
  };
}

export interface StreamEntry {
  id: string;
  fields: Record<string, string>;
}

/** The entry of the sale's stream that carries this order. */
export async function entryOf(redis: Redis, saleId: string, orderId: string): Promise<StreamEntry> {
  for (const [id, list] of await redis.xrange(saleKeys(saleId).stream, "-", "+")) {
    const fields: Record<string, string> = {};
    for (let i = 0; i + 1 < list.length; i += 2) fields[list[i] as string] = list[i + 1] as string;
    if (fields[ORDER_FIELDS.orderId] === orderId) return { id, fields };
  }
  throw new Error(`no entry of ${saleId}'s stream carries order ${orderId}`);
}

/** Appends an entry to the sale's stream (e.g. one made from another's fields); returns its id. */
export async function appendEntry(redis: Redis, saleId: string, fields: Record<string, string>): Promise<string> {
  return (await redis.xadd(saleKeys(saleId).stream, "*", ...Object.entries(fields).flat())) as string;
}

/** Polls until check() is true; throws naming what was awaited after timeoutMs. */
export async function waitFor(what: string, check: () => Promise<boolean> | boolean, timeoutMs = 20_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await check())) {
    if (Date.now() > deadline) throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 100));
  }
}

export interface DrainState {
  /** Rows in Postgres for the sales of the expected orders. */
  rows: number;
  distinctOrders: number;
  /** Distinct (sale, user) among those rows. */
  distinctBuyers: number;
  /** Expected orders absent from Postgres, or present with another user or quantity. */
  missing: string[];
  /** Rows no expected order accounts for. */
  unexpected: string[];
  /** Expected orders whose status in Redis is not `confirmed`. */
  notConfirmed: string[];
  /** Entries delivered to the group and not acknowledged, over the sales' streams. */
  pending: number;
  /** Entries not yet delivered to the group at all. */
  undelivered: number;
}

/** Where the drain of `expected` stands, in Postgres and in Redis. */
export async function drainState(pool: Pool, redis: Redis, expected: AcceptedOrder[]): Promise<DrainState> {
  const saleIds = [...new Set(expected.map((o) => o.saleId))];
  const { rows } = await pool.query<{ order_id: string; sale_id: string; user_id: string; quantity: number }>(
    "SELECT order_id, sale_id, user_id, quantity FROM orders WHERE sale_id = ANY($1::text[])",
    [saleIds],
  );
  const key = (id: string, user: string, qty: number) => `${id} ${user} ${qty}`;
  const inPostgres = new Set(rows.map((r) => key(r.order_id, r.user_id, r.quantity)));
  const wanted = new Set(expected.map((o) => key(o.orderId, o.userId, o.qty)));

  const notConfirmed: string[] = [];
  let pending = 0;
  let undelivered = 0;
  for (const saleId of saleIds) {
    const keys = saleKeys(saleId);
    const orders = expected.filter((o) => o.saleId === saleId);
    const statuses = orders.length === 0 ? [] : await redis.hmget(keys.orders, ...orders.map((o) => orderStatusField(String(o.orderNo))));
    orders.forEach((o, i) => statuses[i] !== "confirmed" && notConfirmed.push(`${o.orderId}=${statuses[i]}`));
    const group = await groupInfo(redis, keys.stream);
    pending += group?.pending ?? 0;
    undelivered += group === undefined ? await redis.xlen(keys.stream) : (await redis.xrange(keys.stream, `(${group.lastDelivered}`, "+")).length;
  }
  return {
    rows: rows.length,
    distinctOrders: new Set(rows.map((r) => r.order_id)).size,
    distinctBuyers: new Set(rows.map((r) => `${r.sale_id} ${r.user_id}`)).size,
    missing: [...wanted].filter((k) => !inPostgres.has(k)),
    unexpected: [...inPostgres].filter((k) => !wanted.has(k)),
    notConfirmed,
    pending,
    undelivered,
  };
}

/** The worker group's pending count and last delivered id (XINFO GROUPS); undefined before the worker made it. */
async function groupInfo(redis: Redis, stream: string): Promise<{ pending: number; lastDelivered: string } | undefined> {
  if ((await redis.exists(stream)) === 0) return undefined;
  const group = streamGroup(await redis.call("XINFO", ["GROUPS", stream]), ORDER_CONSUMER_GROUP);
  return group === undefined ? undefined : { pending: group.pending, lastDelivered: group.lastDeliveredId };
}

/** The state a complete drain of `expected` leaves: what each test asserts at the end. */
export function drainedState(expected: AcceptedOrder[]): DrainState {
  return {
    rows: expected.length,
    distinctOrders: expected.length,
    distinctBuyers: new Set(expected.map((o) => `${o.saleId} ${o.userId}`)).size,
    missing: [],
    unexpected: [],
    notConfirmed: [],
    pending: 0,
    undelivered: 0,
  };
}
