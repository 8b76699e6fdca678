/**
 * POST /api/dev/login {"user": "<id>"} — DEVELOPMENT ONLY: signs a shopper token for any name
 * and sets it as the fs_token cookie, so the pages can be tried from the gateway's origin.
 * nginx routes here only when the knob dev_login is on (off by default; see knobs.conf): in
 * production the platform logs shoppers in.
 */
import { isValidUserId } from "@flash-sale/contract/ids";
import { isJsonContentType } from "@flash-sale/contract/purchase_request";
import { decodeJson, encodeJson } from "../adapters/json";
import { devShopperToken } from "../adapters/dev_tokens";
import { readBoundedBody } from "../http/request";
import { sendErrorWithMessage, sendJson } from "../http/respond";

/** How long a demo login lasts, seconds. */
const DEV_TOKEN_TTL_SEC = 86400;

export function handleDevLogin(this: void): void {
  if (!isJsonContentType(ngx.var.http_content_type)) {
    return sendErrorWithMessage("bad_request", "Content-Type must be application/json");
  }
  const [body] = readBoundedBody();
  const decoded = body === undefined ? undefined : decodeJson(body);
  const user = typeof decoded === "object" && decoded !== null ? (decoded as { [k: string]: unknown })["user"] : undefined;
  if (typeof user !== "string" || !isValidUserId(user)) {
    return sendErrorWithMessage("bad_request", "user must be 1–128 printable ASCII characters without spaces");
  }
  const token = devShopperToken(user, math.floor(ngx.now()) + DEV_TOKEN_TTL_SEC);
  ngx.header["Set-Cookie"] =
    "fs_token=" + token + "; Path=/; Max-Age=" + DEV_TOKEN_TTL_SEC + "; HttpOnly; SameSite=Strict";
  sendJson(200, encodeJson({ user }));
}
