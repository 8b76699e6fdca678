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
  res.status(ERROR_CATALOGUE[error.code].status).json({ error: error.code, message: error.message, ...error.details });
}

/** The body parser's errors (express.json) carry a `type` and an HTTP `status`. */
function fromBodyParser(err: unknown): ApiError | undefined {
  if (typeof err !== "object" || err === null || !("type" in err) || !("status" in err)) return undefined;
  if (err.type === "entity.too.large") return new ApiError("payload_too_large");
  if (err.type === "entity.parse.failed") return new ApiError("bad_request", "The body is not valid JSON.");
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
    const known = err instanceof ApiError ? err : fromBodyParser(err);
    if (known !== undefined) {
      send(res, known);
      return;
    }
    logger.error({ err, method: req.method, path: req.path }, "request failed");
    send(res, new ApiError("internal_error"));
  };
}
