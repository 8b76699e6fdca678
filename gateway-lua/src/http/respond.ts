/**
 * JSON answers of the public API. Error bodies come from the one catalogue; the plain ones
 * are rendered once per worker so a refusal allocates nothing.
 */
import { ERROR_CATALOGUE, ERROR_CODES, type ErrorCode } from "../core/errors";
import { encodeJson } from "../adapters/json";

const plainBodies = new LuaTable<ErrorCode, string>();
for (const code of ERROR_CODES) {
  plainBodies.set(code, errorBody(code, ERROR_CATALOGUE[code].message, ""));
}

function errorBody(code: ErrorCode, message: string, extraJson: string): string {
  return '{"error":"' + code + '","message":' + encodeJson(message) + extraJson + "}";
}

function send(status: number, body: string, cacheControl: string): void {
  ngx.status = status;
  ngx.header["Content-Type"] = "application/json";
  ngx.header["Cache-Control"] = cacheControl;
  ngx.print(body);
}

export function sendJson(status: number, body: string, cacheControl = "no-store"): void {
  send(status, body, cacheControl);
}

/** An error from the catalogue with its own message. */
export function sendError(code: ErrorCode): void {
  send(ERROR_CATALOGUE[code].status, plainBodies.get(code), "no-store");
}

/** An error from the catalogue with a message saying exactly what was wrong. */
export function sendErrorWithMessage(code: ErrorCode, message: string): void {
  send(ERROR_CATALOGUE[code].status, errorBody(code, message, ""), "no-store");
}

/** 429 rate_limited / 503 sale_paused: with Retry-After, also in the body. */
export function sendRetryLater(code: "rate_limited" | "sale_paused", retryAfterSec: number): void {
  const seconds = string.format("%d", retryAfterSec);
  ngx.header["Retry-After"] = seconds;
  send(ERROR_CATALOGUE[code].status, errorBody(code, ERROR_CATALOGUE[code].message, ',"retryAfter":' + seconds), "no-store");
}

/** 425 not_started, with the sale's start so clients can count down. */
export function sendNotStarted(startsAt: string): void {
  send(425, errorBody("not_started", ERROR_CATALOGUE.not_started.message, ',"startsAt":' + encodeJson(startsAt)), "no-store");
}
