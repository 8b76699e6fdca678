/**
 * Errors of the admin API, answered as `{"error": <code>, "message": …}` with the status of
 * the one error catalogue; a backend that is down or timed out becomes 503 `unavailable` (with
 * Retry-After), anything else `internal_error`; both are logged.
 */
import type { ErrorRequestHandler, RequestHandler, Response } from "express";
import { ERROR_CATALOGUE, type ErrorCode } from "@flash-sale/contract/errors";
import type { Logger } from "@flash-sale/node-common";

export class ApiError extends Error {
  constructor(
    readonly code: ErrorCode,
    message: string = ERROR_CATALOGUE[code].message,
    /** More members of the body, e.g. `fields` of a `bad_request`. */
    readonly details: { [key: string]: unknown } = {},
  ) {
    super(message);
    this.name = "ApiError";
  }
}

function send(res: Response, error: ApiError): void {
  const { status, retryAfterSeconds } = ERROR_CATALOGUE[error.code];
  if (retryAfterSeconds !== undefined) res.set("Retry-After", String(retryAfterSeconds));
  const retryAfter = retryAfterSeconds === undefined ? {} : { retryAfter: retryAfterSeconds };
  res.status(status).json({ error: error.code, message: error.message, ...retryAfter, ...error.details });
}

/**
 * Errors of Express's own parts, which carry an HTTP `status`: the body parser's (with a
 * `type`), the router's for a parameter that is not valid %-encoding (400), serve-static's
 * for a missing file (404). They are the client's mistakes: answered, not logged.
 */
function fromExpress(err: unknown): ApiError | undefined {
  if (typeof err !== "object" || err === null || !("status" in err)) return undefined;
  if ("type" in err && err.type === "entity.too.large") return new ApiError("payload_too_large");
  if ("type" in err && err.type === "entity.parse.failed") return new ApiError("bad_request", "The body is not valid JSON.");
  if (err.status === 404) return new ApiError("not_found");
  if (typeof err.status === "number" && err.status >= 400 && err.status < 500) return new ApiError("bad_request");
  return undefined;
}

/** SQLSTATEs of a Postgres down, restarting, short of resources, or past a lock or statement timeout. */
const POSTGRES_AWAY = /^(08|53|57P0[1-3])/;
const POSTGRES_TIMED_OUT = new Set(["55P03", "57014"]);
/** pg's own words for a connection that broke or never came (they carry no SQLSTATE). */
const PG_CONNECTION = /^(Connection terminated|timeout exceeded when trying to connect|Client has encountered a connection error|Client was closed)/;
const SOCKET_CODES = new Set(["ECONNREFUSED", "ECONNRESET", "ETIMEDOUT", "EPIPE", "EHOSTUNREACH", "ENETUNREACH", "EAI_AGAIN"]);
/** Redis' refusals of a server not serving now: loading its data, a failover, a cluster down. */
const REDIS_AWAY = /^(LOADING|BUSY|MASTERDOWN|CLUSTERDOWN|TRYAGAIN|READONLY|NOREPLICAS)\b/;

/**
 * A failure of a backend rather than of the request or of this code: 503 `unavailable` (with
 * Retry-After) saying which backend, undefined for anything else.
 */
function fromBackend(err: unknown): ApiError | undefined {
  // Read by shape: Node's socket errors need not be this realm's Error (a vm, a test runner).
  if (typeof err !== "object" || err === null) return undefined;
  const field = (name: string) => (name in err ? String((err as { [name: string]: unknown })[name]) : undefined);
  const code = field("code");
  const message = field("message") ?? "";
  const name = field("name");
  // pg's DatabaseError carries Postgres' SQLSTATE and a severity.
  if (field("severity") !== undefined && code !== undefined) {
    if (POSTGRES_TIMED_OUT.has(code)) return new ApiError("unavailable", "Postgres did not answer in time (a lock or a statement timed out); retry later.");
    return POSTGRES_AWAY.test(code) ? new ApiError("unavailable", "Postgres is unavailable; retry later.") : undefined;
  }
  if (PG_CONNECTION.test(message)) return new ApiError("unavailable", "Postgres is unavailable; retry later.");
  // ioredis: a command past FS_REDIS_COMMAND_TIMEOUT_MS, a connection down, a cluster without its slots.
  if (name === "MaxRetriesPerRequestError" || name === "ClusterAllFailedError" || /^(Command timed out|Connection is closed|Stream isn't writeable|Failed to refresh slots cache)/.test(message)) {
    return new ApiError("unavailable", "Redis did not answer; retry later.");
  }
  if (name === "ReplyError" && REDIS_AWAY.test(message)) return new ApiError("unavailable", "Redis is not serving now; retry later.");
  if (code !== undefined && SOCKET_CODES.has(code)) return new ApiError("unavailable", "Redis or Postgres is unreachable; retry later.");
  return undefined;
}

export const notFound: RequestHandler = () => {
  throw new ApiError("not_found");
};

export function errorHandler(logger: Logger): ErrorRequestHandler {
  return (err: unknown, req, res, next) => {
    if (res.headersSent) {
      next(err);
      return;
    }
    const known = err instanceof ApiError ? err : fromExpress(err);
    if (known !== undefined) {
      send(res, known);
      return;
    }
    const unavailable = fromBackend(err);
    if (unavailable !== undefined) {
      logger.warn({ err, method: req.method, path: req.path }, "request failed: a backend is unavailable");
      send(res, unavailable);
      return;
    }
    logger.error({ err, method: req.method, path: req.path }, "request failed");
    send(res, new ApiError("internal_error"));
  };
}
