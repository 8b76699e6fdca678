/** The public JSON API of the gateway (README, "Public contract"), same origin, cookie auth. */
import type { Deduction, PublicSaleStatus, PublicSaleView } from "@flash-sale/gateway-lua/core/sale";
import type { OrderStatus } from "@flash-sale/gateway-lua/core/stream";

export type { OrderStatus };
export type SaleStatus = PublicSaleStatus;
export type PublicSale = PublicSaleView;

export interface Order {
  orderId: string;
  saleId: string;
  status: OrderStatus;
  quantity: number;
  acceptedAt: string;
  /** The sale's; absent once the gateway no longer knows the sale. */
  deduction?: Deduction;
  /** Orders of a `reserve` or `payment` sale: unpaid after this, the order expires. */
  payBy?: string;
}

export interface Challenge {
  challengeId: string;
  /** A data: URL of the picture. */
  image: string;
  expiresAt: string;
}

/** An answer: the body when it is 2xx, else the catalogue error. */
export type ApiResult<T> =
  | { ok: true; status: number; body: T }
  | { ok: false; status: number; error: string; message: string; retryAfterSec: number };

async function call<T>(path: string, init: RequestInit): Promise<ApiResult<T>> {
  let res: Response;
  try {
    res = await fetch(path, { credentials: "same-origin", ...init });
  } catch {
    return { ok: false, status: 0, error: "network", message: "The connection failed.", retryAfterSec: 2 };
  }
  let body: unknown;
  try {
    body = await res.json();
  } catch {
    body = undefined;
  }
  if (res.ok) return { ok: true, status: res.status, body: body as T };
  const err = (body ?? {}) as { error?: unknown; message?: unknown };
  const retryAfter = Number(res.headers.get("Retry-After"));
  return {
    ok: false,
    status: res.status,
    error: typeof err.error === "string" ? err.error : "unavailable",
    message: typeof err.message === "string" ? err.message : `The server answered ${res.status}.`,
    retryAfterSec: Number.isFinite(retryAfter) && retryAfter > 0 ? retryAfter : 1,
  };
}

export function getJson<T>(path: string): Promise<ApiResult<T>> {
  return call<T>(path, { method: "GET" });
}

export function postJson<T>(path: string, body: unknown): Promise<ApiResult<T>> {
  return call<T>(path, { method: "POST", headers: { "Content-Type": "application/json" }, body: JSON.stringify(body) });
}
