/**
 * Errors of the admin API, answered as `{"error": <code>, "message": …}` with the status of
 * the one error catalogue; anything else becomes `internal_error` and is logged.
 */
import type { ErrorRequestHandler, RequestHandler, Response } from "express";
import { ERROR_CATALOGUE, type ErrorCode } from "@flash-sale/gateway-lua/core/errors";
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
    logger.error({ err, method: req.method, path: req.path }, "request failed");
    send(res, new ApiError("internal_error"));
  };
}
