/**
 * JSON answers of the public API. Error bodies come from the one catalogue; the plain ones
 * are rendered once per worker so a refusal allocates nothing.
 */
import { ERROR_CATALOGUE, ERROR_CODES, type ErrorCode } from "@flash-sale/contract/errors";
import { encodeJson } from "../adapters/json";

const plainBodies = new LuaTable<ErrorCode, string>();
for (const code of ERROR_CODES) {
  plainBodies.set(code, errorBody(code, ERROR_CATALOGUE[code].message, ""));
}

function errorBody(code: ErrorCode, message: string, extraJson: string): string {
  const retryAfter = ERROR_CATALOGUE[code].retryAfterSeconds;
  const retryJson = retryAfter === undefined ? "" : ',"retryAfter":' + string.format("%d", retryAfter);
  return '{"error":"' + code + '","message":' + encodeJson(message) + retryJson + extraJson + "}";
}

/** Retry-After of the codes whose catalogue entry has one. */
function sendRetryAfterOf(code: ErrorCode): void {
  const retryAfter = ERROR_CATALOGUE[code].retryAfterSeconds;
  if (retryAfter !== undefined) ngx.header["Retry-After"] = string.format("%d", retryAfter);
}

/**
 * `outcome` goes to $fs_outcome: the access log's `outcome` and the metrics' outcome label
 * (phases/log.ts). It is the error code, or a word of the handler's for a success.
 */
function send(status: number, body: string, cacheControl: string, outcome: string): void {
  ngx.var.fs_outcome = outcome;
  ngx.status = status;
  ngx.header["Content-Type"] = "application/json";
  ngx.header["Cache-Control"] = cacheControl;
  ngx.header["X-Content-Type-Options"] = "nosniff";
  // A known length: never chunked, and an HTTP/1.0 client keeps its connection.
  ngx.header["Content-Length"] = body.length;
  ngx.print(body);
}

export function sendJson(status: number, body: string, cacheControl = "no-store", outcome = "ok"): void {
  send(status, body, cacheControl, outcome);
}

/** An error from the catalogue with its own message. */
export function sendError(code: ErrorCode): void {
  sendRetryAfterOf(code);
  send(ERROR_CATALOGUE[code].status, plainBodies.get(code), "no-store", code);
}

/** An error from the catalogue with a message saying exactly what was wrong; `extraJson` adds fields (`,"k":v`). */
export function sendErrorWithMessage(code: ErrorCode, message: string, outcome: string = code, extraJson = ""): void {
  sendRetryAfterOf(code);
  send(ERROR_CATALOGUE[code].status, errorBody(code, message, extraJson), "no-store", outcome);
}

/**
 * 429 rate_limited / 503 sale_paused, sale_busy: with Retry-After, also in the body. `outcome` tells
 * apart limiters that answer with the same code (the admission gate from a shopper's rate).
 */
export function sendRetryLater(code: "rate_limited" | "sale_paused" | "sale_busy", retryAfterSec: number, outcome: string = code): void {
  const seconds = string.format("%d", retryAfterSec);
  ngx.header["Retry-After"] = seconds;
  send(ERROR_CATALOGUE[code].status, errorBody(code, ERROR_CATALOGUE[code].message, ',"retryAfter":' + seconds), "no-store", outcome);
}

/** 503 unavailable for a sale Redis lost: nothing sells until the control plane has rebuilt it from Postgres. */
export function sendSaleHeld(): void {
  sendErrorWithMessage("unavailable", "The sale is being rebuilt after a Redis failure; nothing was sold. Retry shortly.", "held");
}

/** 425 not_started, with the sale's start so clients can count down. */
export function sendNotStarted(startsAt: string, message: string = ERROR_CATALOGUE.not_started.message): void {
  send(ERROR_CATALOGUE.not_started.status, errorBody("not_started", message, ',"startsAt":' + encodeJson(startsAt)), "no-store", "not_started");
}
