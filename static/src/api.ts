/** The public JSON API of the gateway (docs/api.md, openapi.yaml), same origin, cookie auth. */
import type { Deduction, PublicSaleStatus, PublicSaleView } from "@flash-sale/contract/sale";
import type { OrderStatus } from "@flash-sale/contract/stream";

export type { OrderStatus };
export type SaleStatus = PublicSaleStatus;
export type PublicSale = PublicSaleView;

export interface Order {
  orderId: string;
  saleId: string;
  status: OrderStatus;
  quantity: number;
  acceptedAt: string;
  /** The sale's name and deduction; absent once the gateway no longer knows the sale. */
  saleName?: string;
  /** The unit price (minor units) and currency the order was accepted at, whatever the sale's are now. */
  price?: number;
  currency?: string;
  deduction?: Deduction;
  /** Orders of a `reserve` or `payment` sale: unpaid after this, the order expires. */
  payBy?: string;
}

export interface Challenge {
  challengeId: string;
  kind: "picture" | "text";
  /** A picture: a data: URL. */
  image?: string;
  /** A text question. */
  question?: string;
  expiresAt: string;
  /** A text question is not answered before this. */
  answerableAt?: string;
}

/** GET /api/session: who is logged in, and how to log in (the demo form, or the shop's page). */
export interface Session {
  loggedIn: boolean;
  user?: string;
  demoLogin: boolean;
  loginUrl: string;
}

/**
 * An answer: the body when it is 2xx, else the catalogue error (`network` when none came: for a
 * purchase, that too may hide an order).
 */
export type ApiResult<T> =
  | { ok: true; status: number; body: T }
  | { ok: false; status: number; error: string; message: string; retryAfterSec: number; orderMayExist: boolean };

/** A call that hangs this long counts as failed, so the page can say so and try again. */
const TIMEOUT_MS = 8000;

async function call<T>(path: string, init: RequestInit): Promise<ApiResult<T>> {
  let res: Response;
  try {
    res = await fetch(path, { credentials: "same-origin", signal: AbortSignal.timeout(TIMEOUT_MS), ...init });
  } catch {
    return { ok: false, status: 0, error: "network", message: "The connection to the shop failed.", retryAfterSec: 2, orderMayExist: false };
  }
  let body: unknown;
  try {
    body = await res.json();
  } catch {
    body = undefined;
  }
  if (res.ok) return { ok: true, status: res.status, body: body as T };
  const err = (body ?? {}) as { error?: unknown; message?: unknown; orderMayExist?: unknown };
  const retryAfter = Number(res.headers.get("Retry-After"));
  return {
    ok: false,
    status: res.status,
    error: typeof err.error === "string" ? err.error : "unavailable",
    message: typeof err.message === "string" ? err.message : `The server answered ${res.status}.`,
    retryAfterSec: Number.isFinite(retryAfter) && retryAfter > 0 ? retryAfter : 1,
    // A purchase that may have sold (docs/guarantees.md, "What a 202 guarantees"): any other error sold nothing.
    orderMayExist: err.orderMayExist === true,
  };
}

export function getJson<T>(path: string): Promise<ApiResult<T>> {
  return call<T>(path, { method: "GET" });
}

export function postJson<T>(path: string, body: unknown): Promise<ApiResult<T>> {
  return call<T>(path, { method: "POST", headers: { "Content-Type": "application/json" }, body: JSON.stringify(body) });
}

export function deleteJson<T>(path: string): Promise<ApiResult<T>> {
  return call<T>(path, { method: "DELETE" });
}

/** The backend could not answer (no connection, a 5xx): worth saying so and trying again. */
export function isUnreachable(res: ApiResult<unknown>): boolean {
  return !res.ok && (res.status === 0 || res.status >= 500) && res.error !== "sale_paused" && res.error !== "sale_busy";
}
