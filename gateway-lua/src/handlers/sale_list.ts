/** GET /api/sales — the public list of published sales, soonest first, from the worker's cache; cacheable for a second. */
import { cachedSales, configsKnown } from "../adapters/sale_cache";
import { encodeJson } from "../adapters/json";
import { sendError, sendJson } from "../http/respond";
import { publicSaleView } from "../http/public_sale";

export function handleSaleList(this: void): void {
  // Before the first config sync, an empty list would be a false answer.
  if (!configsKnown()) return sendError("unavailable");
  const nowMs = ngx.now() * 1000;
  const entries = cachedSales();
  table.sort(entries, (a, b) => a.sale.startsAtMs < b.sale.startsAtMs || (a.sale.startsAtMs === b.sale.startsAtMs && a.sale.id < b.sale.id));
  const views: unknown[] = [];
  for (const c of entries) views.push(publicSaleView(c, nowMs));
  // An empty Lua table encodes as {}: say the list is an array.
  sendJson(200, views.length === 0 ? '{"sales":[]}' : '{"sales":' + encodeJson(views) + "}", "public, max-age=1");
}
