/**
 * Read-only routes of the ops console beside the sale routes, under /admin/api: every sale's
 * live stats in one request (each sale's read succeeds or fails on its own), and a sale's
 * orders from Postgres, in cursor pages or all of them as CSV (streamed in batches), and its
 * report (store/sale-report.ts) as JSON or its per-second traffic as CSV.
 */
import { Router, type Request, type Response } from "express";
import type { Logger, Pool, Redis } from "@flash-sale/node-common";
import { ApiError } from "./api-error";
import { readLiveStats, type LiveStats } from "../projection/live-stats";
import type { OrderStatus } from "../projection/rebuilt-state";
import { saleReport, seriesCsv } from "../store/sale-report";
import type { Sale, SaleRepository } from "../store/sale-repository";

/** Where these routes are mounted (their paths start with /sales). */
export const ADMIN_API_PATH = "/admin/api";

/** Every status an order row may have; a Record, so that a new status fails to compile here. */
const ORDER_STATUSES: Record<OrderStatus, true> = { pending: true, confirmed: true, paid: true, expired: true, failed: true };
const PAGE_DEFAULT = 50;
const PAGE_MAX = 500;
const CSV_BATCH = 1000;
const SEARCH_MAX_LENGTH = 200;
/** Sales whose stats are read at once: a long list must not take the whole Postgres pool. */
const STATS_CONCURRENCY = 4;
/** A page's place: the last order's `<epoch>.<order number>` (order ids are never reused). */
const CURSOR = /^(\d{1,9})\.(\d{1,18})$/;

export type SaleStatsEntry = { id: string; stats: LiveStats } | { id: string; error: "unavailable"; message: string };

export interface OrderRow {
  orderId: string;
  userId: string;
  quantity: number;
  /** Per unit, minor units: the order's own, as it was accepted (not the sale's now). */
  price: number;
  currency: string;
  status: OrderStatus;
  acceptedAt: string;
  /** When it was paid (Redis' clock); null unless paid. */
  paidAt: string | null;
}

export interface OrdersPage {
  orders: OrderRow[];
  /** Pass as `cursor` for the next page; null on the last. */
  nextCursor: string | null;
}

interface OrderQuery {
  status?: OrderStatus;
  /** A user id or an order id, matched exactly. */
  search?: string;
  after?: { epoch: string; orderNo: string };
  limit: number;
  /** Pages show the newest first; the CSV keeps the order of acceptance. */
  newestFirst: boolean;
}

interface Row {
  order_id: string;
  user_id: string;
  quantity: number;
  price: string; // bigint
  currency: string;
  status: OrderStatus;
  accepted_at: Date;
  status_changed_at: Date | null;
  epoch: number;
  order_no: string; // bigint
}

export interface ConsoleRoutesDeps {
  pool: Pool;
  redis: Redis;
  repository: SaleRepository;
  logger: Logger;
}

async function mapLimited<T, R>(items: T[], limit: number, work: (item: T) => Promise<R>): Promise<R[]> {
  const results: R[] = new Array(items.length);
  let next = 0;
  const worker = async (): Promise<void> => {
    while (next < items.length) {
      const i = next++;
      results[i] = await work(items[i]!);
    }
  };
  await Promise.all(Array.from({ length: Math.min(limit, items.length) }, worker));
  return results;
}

/** Keyset pages over the unique (sale_id, epoch, order_no) index: each row once, however many. */
async function queryOrders(pool: Pool, saleId: string, q: OrderQuery): Promise<Row[]> {
  const params: unknown[] = [saleId];
  const where = ["sale_id = $1"];
  if (q.status !== undefined) where.push(`status = $${params.push(q.status)}`);
  if (q.search !== undefined) {
    const n = params.push(q.search);
    where.push(`(user_id = $${n} OR order_id = $${n})`);
  }
  if (q.after !== undefined) {
    const e = params.push(q.after.epoch);
    const o = params.push(q.after.orderNo);
    where.push(`(epoch, order_no) ${q.newestFirst ? "<" : ">"} ($${e}::int, $${o}::bigint)`);
  }
  const direction = q.newestFirst ? "DESC" : "ASC";
  const result = await pool.query<Row>(
    `SELECT order_id, user_id, quantity, price, currency, status, accepted_at, status_changed_at, epoch, order_no FROM orders
      WHERE ${where.join(" AND ")}
      ORDER BY epoch ${direction}, order_no ${direction}
      LIMIT $${params.push(q.limit)}`,
    params,
  );
  return result.rows;
}

function toOrder(row: Row): OrderRow {
  return {
    orderId: row.order_id,
    userId: row.user_id,
    quantity: row.quantity,
    price: Number(row.price),
    currency: row.currency,
    status: row.status,
    acceptedAt: row.accepted_at.toISOString(),
    paidAt: row.status === "paid" && row.status_changed_at !== null ? row.status_changed_at.toISOString() : null,
  };
}

function cursorOf(row: Row): string {
  return `${row.epoch}.${row.order_no}`;
}

function queryText(req: Request, name: string): string | undefined {
  const value = req.query[name];
  if (value === undefined) return undefined;
  if (typeof value !== "string") throw badParameter(name, "must be given once");
  return value;
}

function badParameter(name: string, message: string): ApiError {
  return new ApiError("bad_request", `Query parameter ${name} ${message}.`, { fields: [{ path: name, message }] });
}

/** The filters both order routes take: `status`, `q`. */
function orderFilters(req: Request): Pick<OrderQuery, "status" | "search"> {
  const status = queryText(req, "status");
  if (status !== undefined && !Object.hasOwn(ORDER_STATUSES, status)) {
    throw badParameter("status", `must be one of ${Object.keys(ORDER_STATUSES).join(", ")}`);
  }
  const search = queryText(req, "q")?.trim();
  if (search !== undefined && search.length > SEARCH_MAX_LENGTH) throw badParameter("q", `must be at most ${SEARCH_MAX_LENGTH} characters`);
  return { status: status as OrderStatus | undefined, search: search === "" ? undefined : search };
}

/**
 * RFC 4180: a field with a comma, quote or line break is quoted, its quotes doubled. A field a
 * spreadsheet would read as a formula (OWASP, CSV injection: starting with =, +, -, @, tab or
 * carriage return) gets a leading single quote first: shoppers choose their user ids.
 */
function csvField(value: string): string {
  const text = /^[=+\-@\t\r]/.test(value) ? `'${value}` : value;
  return /[",\r\n]/.test(text) ? `"${text.replace(/"/g, '""')}"` : text;
}

const CSV_HEADER = "order_id,user_id,quantity,price,currency,status,accepted_at,paid_at\r\n";

function csvLine(o: OrderRow): string {
  return `${[o.orderId, o.userId, String(o.quantity), String(o.price), o.currency, o.status, o.acceptedAt, o.paidAt ?? ""].map(csvField).join(",")}\r\n`;
}

/** Resolves once the client has taken what was written, or has gone. */
function drained(res: Response): Promise<void> {
  return new Promise((resolve) => {
    const done = (): void => {
      res.off("drain", done);
      res.off("close", done);
      resolve();
    };
    res.on("drain", done);
    res.on("close", done);
  });
}

/** A failed read in an operator's words: which store, and what it said. */
function whatFailed(err: unknown): string {
  if (!(err instanceof Error)) return String(err);
  // pg's DatabaseError carries Postgres' SQLSTATE; ioredis's errors their names.
  if ("code" in err && "severity" in err) return `Postgres refused the read (${err.message})`;
  if (err.name === "MaxRetriesPerRequestError" || /connection is closed/i.test(err.message)) return "Redis did not answer";
  if (err.name === "ReplyError") return `Redis refused the read (${err.message})`;
  return err.message;
}

export function consoleRoutes({ pool, redis, repository, logger }: ConsoleRoutesDeps): Router {
  const router = Router();

  async function existingSale(id: string): Promise<Sale> {
    const sale = await repository.find(id);
    if (sale === undefined) throw new ApiError("sale_not_found");
    return sale;
  }

  router.get("/sales-stats", async (_req, res) => {
    const sales = await repository.list();
    const failures: { saleId: string; err: unknown }[] = [];
    const entries = await mapLimited(sales, STATS_CONCURRENCY, async ({ id, stockBuckets }): Promise<SaleStatsEntry> => {
      try {
        return { id, stats: await readLiveStats(redis, pool, repository, id, stockBuckets) };
      } catch (err) {
        failures.push({ saleId: id, err });
        return { id, error: "unavailable", message: `Its live stats could not be read: ${whatFailed(err)}.` };
      }
    });
    // Once per request, not per sale: a Redis outage must not write a line for every sale.
    if (failures.length > 0) logger.warn({ failed: failures.map((f) => f.saleId), err: failures[0]!.err }, "sale stats not read");
    res.json({ sales: entries });
  });

  router.get("/sales/:id/orders", async (req, res) => {
    const limitText = queryText(req, "limit");
    const limit = limitText === undefined ? PAGE_DEFAULT : Number(limitText);
    if (!Number.isInteger(limit) || limit < 1 || limit > PAGE_MAX) throw badParameter("limit", `must be a whole number from 1 to ${PAGE_MAX}`);
    const cursorText = queryText(req, "cursor");
    const cursor = cursorText === undefined ? undefined : CURSOR.exec(cursorText);
    if (cursor === null) throw badParameter("cursor", "must be a nextCursor of an earlier page");
    const filters = orderFilters(req);
    await existingSale(req.params.id);

    // One more than asked tells whether a next page exists.
    const rows = await queryOrders(pool, req.params.id, {
      ...filters,
      after: cursor === undefined ? undefined : { epoch: cursor[1]!, orderNo: cursor[2]! },
      limit: limit + 1,
      newestFirst: true,
    });
    const page = rows.slice(0, limit);
    const body: OrdersPage = { orders: page.map(toOrder), nextCursor: rows.length > limit ? cursorOf(page[page.length - 1]!) : null };
    res.json(body);
  });

  router.get("/sales/:id/orders.csv", async (req, res) => {
    const saleId = req.params.id;
    const filters = orderFilters(req);
    await existingSale(saleId);
    // The first batch before the headers: a failure there is still an error answer.
    let batch = await queryOrders(pool, saleId, { ...filters, limit: CSV_BATCH, newestFirst: false });
    res.status(200).type("text/csv; charset=utf-8").set("Content-Disposition", `attachment; filename="${saleId}-orders.csv"`);
    res.write(CSV_HEADER);
    try {
      for (;;) {
        if (!res.write(batch.map((r) => csvLine(toOrder(r))).join(""))) await drained(res);
        if (res.destroyed || batch.length < CSV_BATCH) break;
        const last = batch[batch.length - 1]!;
        batch = await queryOrders(pool, saleId, { ...filters, after: { epoch: String(last.epoch), orderNo: last.order_no }, limit: CSV_BATCH, newestFirst: false });
      }
      res.end();
    } catch (err) {
      // The status is sent: cut the answer short so that a partial file never looks complete.
      logger.error({ err, saleId }, "orders CSV cut short");
      res.destroy();
    }
  });

  router.get("/sales/:id/report", async (req, res) => {
    res.json(await saleReport(pool, await existingSale(req.params.id)));
  });

  router.get("/sales/:id/report.csv", async (req, res) => {
    const { saleId, series } = await saleReport(pool, await existingSale(req.params.id));
    res.status(200).type("text/csv; charset=utf-8").set("Content-Disposition", `attachment; filename="${saleId}-traffic.csv"`);
    res.send(seriesCsv(series, csvField));
  });

  return router;
}
