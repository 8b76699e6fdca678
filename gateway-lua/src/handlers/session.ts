/**
 * GET /api/session — who the caller is, and how the pages should log a shopper in: the demo
 * login's form when the knob dev_login is on, else a link to the shop's login (knob
 * shop_login_url). DELETE logs out: it clears the fs_token cookie (a token sent as a bearer
 * header is the caller's to drop). Per caller, never cached; no Redis.
 */
import { encodeJson } from "../adapters/json";
import { authenticatedShopper } from "../http/request";
import { sendJson } from "../http/respond";
import { settings } from "../settings";

export function handleSession(this: void): void {
  const s = settings();
  if (ngx.req.get_method() === "DELETE") {
    ngx.header["Set-Cookie"] = "fs_token=; Path=/; Max-Age=0; HttpOnly; SameSite=Strict";
    return sendJson(200, encodeJson({ loggedIn: false, demoLogin: s.devLogin, loginUrl: s.shopLoginUrl }));
  }
  const userId = authenticatedShopper(ngx.now());
  sendJson(200, encodeJson({ loggedIn: userId !== undefined, user: userId, demoLogin: s.devLogin, loginUrl: s.shopLoginUrl }));
}
