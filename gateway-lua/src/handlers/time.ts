/** GET /api/time — the server's clock for countdowns; never cached. */
import { sendJson } from "../http/respond";

export function handleTime(this: void): void {
  ngx.update_time();
  sendJson(200, '{"now":' + string.format("%d", ngx.now() * 1000) + "}");
}
