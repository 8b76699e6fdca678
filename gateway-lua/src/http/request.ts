/** What the handlers read from the request: the shopper's token and a bounded body. */
import { MAX_PURCHASE_BODY_BYTES } from "@flash-sale/contract/purchase_request";
import { shopperOfToken } from "../adapters/shopper_identity";

/** The token from `Authorization: Bearer …`, else from the `fs_token` cookie. */
export function shopperToken(): string | undefined {
  const auth = ngx.var.http_authorization;
  if (auth !== undefined) {
    if (string.sub(auth, 1, 7) === "Bearer ") return string.sub(auth, 8);
    return undefined;
  }
  return ngx.var.cookie_fs_token;
}

/**
 * The user id of the request's shopper token at nowSec; undefined when it is missing or bad.
 * `oneShot`: a request a shopper seldom repeats (a purchase, a challenge), whose token is not
 * added to the workers' memo (adapters/shopper_identity.ts).
 */
export function authenticatedShopper(nowSec: number, oneShot = false): string | undefined {
  const token = shopperToken();
  return token === undefined ? undefined : shopperOfToken(token, nowSec, !oneShot);
}

export type BodyProblem = "too_large" | "empty";

/**
 * The request body, at most MAX_PURCHASE_BODY_BYTES. A declared length over the limit is
 * refused before reading; a chunked body is read (nginx caps it at client_max_body_size,
 * and the memory buffer is as large, so it never goes to a file) and then measured.
 */
export function readBoundedBody(): LuaMultiReturn<[string | undefined, BodyProblem | undefined]> {
  const declared = tonumber(ngx.var.content_length);
  if (declared !== undefined && declared > MAX_PURCHASE_BODY_BYTES) return $multi(undefined, "too_large");
  ngx.req.read_body();
  const body = ngx.req.get_body_data();
  if (body === undefined) {
    return $multi(undefined, ngx.req.get_body_file() !== undefined ? "too_large" : "empty");
  }
  if (body.length > MAX_PURCHASE_BODY_BYTES) return $multi(undefined, "too_large");
  if (body.length === 0) return $multi(undefined, "empty");
  return $multi(body, undefined);
}
