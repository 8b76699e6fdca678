/**
 * GET /api/session — who the caller is, and how the pages should log a shopper in: the demo
 * login's form when the knob dev_login is on, else a link to the shop's login (knob
 * shop_login_url). Per caller, never cached; no Redis.
 */
import { encodeJson } from "../adapters/json";
import { authenticatedShopper } from "../http/request";
import { sendJson } from "../http/respond";
import { settings } from "../settings";

export function handleSession(this: void): void {
  const userId = authenticatedShopper(ngx.now());
  const s = settings();
  sendJson(200, encodeJson({ loggedIn: userId !== undefined, user: userId, demoLogin: s.devLogin, loginUrl: s.shopLoginUrl }));
}
