/** GET /api/sales/{id} — the public view of a sale, from the worker's cache; cacheable for a second. */
import { cachedSale, configsKnown } from "../adapters/sale_cache";
import { encodeJson } from "../adapters/json";
import { sendError, sendJson } from "../http/respond";
import { publicSaleView } from "../http/public_sale";

export function handleSaleView(this: void): void {
  const c = cachedSale(ngx.var.fs_sale_id ?? "");
  // Before the first config sync an unknown sale may exist: say so rather than 404.
  if (c === undefined) return sendError(configsKnown() ? "sale_not_found" : "unavailable");
  sendJson(200, encodeJson(publicSaleView(c, ngx.now() * 1000)), "public, max-age=1");
}
