/** GET /api/sales/{id} — the public view of a sale, from the worker's cache; cacheable for a second. */
import { cachedSale } from "../adapters/sale_cache";
import { encodeJson } from "../adapters/json";
import { sendError, sendJson } from "../http/respond";
import { publicSaleView } from "../http/public_sale";

export function handleSaleView(this: void): void {
  const c = cachedSale(ngx.var.fs_sale_id ?? "");
  if (c === undefined) return sendError("sale_not_found");
  sendJson(200, encodeJson(publicSaleView(c, ngx.now() * 1000)), "public, max-age=1");
}
