/**
 * The sale record as published to gateways (JSON in the SALE_CONFIGS_KEY hash), and the
 * sale window read from it by the server's clock.
 */
import { MAX_STOCK_BUCKETS } from "./buckets";
import { isValidSaleId } from "./ids";

export type Deduction = "order" | "payment" | "reserve";
export const DEDUCTIONS: Deduction[] = ["order", "payment", "reserve"];

export interface SaleLimits {
  /** Sustained purchase attempts per second per shopper. */
  userRatePerSecond: number;
  /** Attempts a shopper may make at once above the sustained rate. */
  userBurst: number;
  /** Purchase attempts per second per sale that may reach Redis, over the whole fleet of gateways. */
  admitPerSecond: number;
  /** Deduction `payment`: most orders of the sale waiting unpaid at once (set for it only). */
  openUnpaidOrders?: number;
}

/** A sale's waiting room (core/waiting_room.ts): shoppers queue, then buy with a pass. */
export interface WaitingRoom {
  /** The queue opens this long before startsAt; joiners before the start are shuffled at it. */
  opensBeforeSeconds: number;
  /** Shoppers admitted per second from the start, over the whole fleet. */
  admitPerSecond: number;
  /** How long an admitted shopper's pass is valid. */
  passSeconds: number;
}

export interface PublishedSale {
  id: string;
  name: string;
  /** Minor units (cents). */
  price: number;
  currency: string;
  /** Total units of the sale. */
  stock: number;
  /** ISO 8601 UTC, as shown to shoppers. */
  startsAt: string;
  endsAt: string;
  /** The same instants in epoch milliseconds, for the gateway's clock checks. */
  startsAtMs: number;
  endsAtMs: number;
  perUserLimit: number;
  deduction: Deduction;
  paymentTimeoutSeconds?: number;
  challenge: boolean;
  paused: boolean;
  limits: SaleLimits;
  /** Absent: anyone may buy from the start, as without a waiting room. */
  waitingRoom?: WaitingRoom;
  /** Slots the stock is split over (core/buckets.ts); 1: the whole sale on one slot. */
  stockBuckets: number;
  /** The publish version this record came with. */
  version: number;
}

type Fields = { [key: string]: unknown };

function isRecord(v: unknown): v is Fields {
  return typeof v === "object" && v !== null;
}

function isWholeNumber(v: unknown, min: number): v is number {
  return typeof v === "number" && Math.floor(v) === v && v >= min && v < 9007199254740992;
}

function isPositiveNumber(v: unknown): v is number {
  return typeof v === "number" && v > 0 && v < 1e12;
}

function isText(v: unknown): v is string {
  return typeof v === "string" && v.length > 0;
}

function parseLimits(v: unknown): SaleLimits | undefined {
  if (!isRecord(v)) return undefined;
  const f = v;
  const rate = f["userRatePerSecond"];
  const burst = f["userBurst"];
  const admit = f["admitPerSecond"];
  const openUnpaid = f["openUnpaidOrders"];
  if (!isPositiveNumber(rate) || !isWholeNumber(burst, 0) || !isPositiveNumber(admit)) return undefined;
  if (openUnpaid !== undefined && !isWholeNumber(openUnpaid, 1)) return undefined;
  return { userRatePerSecond: rate, userBurst: burst, admitPerSecond: admit, openUnpaidOrders: openUnpaid };
}

function parseWaitingRoom(v: unknown): WaitingRoom | undefined {
  if (!isRecord(v)) return undefined;
  const opensBefore = v["opensBeforeSeconds"];
  const admit = v["admitPerSecond"];
  const pass = v["passSeconds"];
  if (!isWholeNumber(opensBefore, 0) || !isPositiveNumber(admit) || !isWholeNumber(pass, 1)) return undefined;
  return { opensBeforeSeconds: opensBefore, admitPerSecond: admit, passSeconds: pass };
}

function parseDeduction(v: unknown): Deduction | undefined {
  for (const d of DEDUCTIONS) {
    if (v === d) return d;
  }
  return undefined;
}

/**
 * Checks a decoded config record; returns the sale, or a message naming the bad field.
 * Gateways skip records that fail (a bad publish must not take down the others).
 */
export function parsePublishedSale(v: unknown): PublishedSale | string {
  if (!isRecord(v)) return "record is not an object";
  const f = v;
  const id = f["id"];
  if (typeof id !== "string" || !isValidSaleId(id)) return "id";
  const name = f["name"];
  const price = f["price"];
  const currency = f["currency"];
  const stock = f["stock"];
  const startsAt = f["startsAt"];
  const endsAt = f["endsAt"];
  const startsAtMs = f["startsAtMs"];
  const endsAtMs = f["endsAtMs"];
  const perUserLimit = f["perUserLimit"];
  const paymentTimeoutSeconds = f["paymentTimeoutSeconds"];
  const challenge = f["challenge"];
  const paused = f["paused"];
  const version = f["version"];
  if (!isText(name)) return "name";
  if (!isWholeNumber(price, 0)) return "price";
  if (!isText(currency)) return "currency";
  if (!isWholeNumber(stock, 0)) return "stock";
  if (!isText(startsAt)) return "startsAt";
  if (!isText(endsAt)) return "endsAt";
  if (!isWholeNumber(startsAtMs, 0)) return "startsAtMs";
  if (!isWholeNumber(endsAtMs, 0) || endsAtMs <= startsAtMs) return "endsAtMs";
  if (!isWholeNumber(perUserLimit, 1)) return "perUserLimit";
  const deduction = parseDeduction(f["deduction"]);
  if (deduction === undefined) return "deduction";
  if (paymentTimeoutSeconds !== undefined && !isWholeNumber(paymentTimeoutSeconds, 1)) return "paymentTimeoutSeconds";
  if (typeof challenge !== "boolean") return "challenge";
  if (typeof paused !== "boolean") return "paused";
  const limits = parseLimits(f["limits"]);
  if (limits === undefined) return "limits";
  if (deduction === "payment" && limits.openUnpaidOrders === undefined) return "limits";
  let waitingRoom: WaitingRoom | undefined;
  if (f["waitingRoom"] !== undefined) {
    waitingRoom = parseWaitingRoom(f["waitingRoom"]);
    if (waitingRoom === undefined) return "waitingRoom";
  }
  // Records published before the setting existed have none: one bucket.
  const stockBuckets = f["stockBuckets"] ?? 1;
  if (!isWholeNumber(stockBuckets, 1) || stockBuckets > MAX_STOCK_BUCKETS) return "stockBuckets";
  if (!isWholeNumber(version, 1)) return "version";
  return {
    id,
    name,
    price,
    currency,
    stock,
    startsAt,
    endsAt,
    startsAtMs,
    endsAtMs,
    perUserLimit,
    deduction,
    paymentTimeoutSeconds,
    challenge,
    paused,
    limits,
    waitingRoom,
    stockBuckets,
    version,
  };
}

/** Where the sale stands for a purchase at nowMs by the server's clock. */
export type SaleWindow = "upcoming" | "open" | "paused" | "ended";

export function saleWindowAt(sale: PublishedSale, nowMs: number): SaleWindow {
  if (nowMs < sale.startsAtMs) return "upcoming";
  if (nowMs >= sale.endsAtMs) return "ended";
  if (sale.paused) return "paused";
  return "open";
}

/** The status of the public view of a sale. */
export type PublicSaleStatus = "upcoming" | "active" | "paused" | "sold_out" | "ended";

/** The public view of a sale (GET /api/sales, GET /api/sales/{id}), as the pages read it. */
export interface PublicSaleView {
  id: string;
  name: string;
  price: number;
  currency: string;
  startsAt: string;
  endsAt: string;
  status: PublicSaleStatus;
  challenge: boolean;
  /** The most units one shopper may hold in the sale, for the page to tell before the click. */
  perUserLimit: number;
  /** `left` is approximate: refreshed from Redis about every 250 ms. */
  stock: { total: number; left: number };
  /** Present when shoppers queue first (POST /api/sales/{id}/queue): when the queue opens. */
  waitingRoom?: { opensAt: string };
}

export function publicSaleStatus(sale: PublishedSale, nowMs: number, soldOut: boolean): PublicSaleStatus {
  const w = saleWindowAt(sale, nowMs);
  if (w === "upcoming") return "upcoming";
  if (w === "ended") return "ended";
  if (soldOut) return "sold_out";
  return w === "paused" ? "paused" : "active";
}
