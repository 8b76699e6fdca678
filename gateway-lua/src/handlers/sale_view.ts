/** GET /api/sales/{id} — the public view of a sale, from the worker's cache; cacheable for a second. */
import { saleWindowAt } from "@flash-sale/contract/sale";
import { cachedSale, configsKnown } from "../adapters/sale_cache";
import { encodeJson } from "../adapters/json";
import { sendError, sendJson, sendSaleHeld } from "../http/respond";
import { publicSaleView } from "../http/public_sale";

export function handleSaleView(this: void): void {
  const c = cachedSale(ngx.var.fs_sale_id ?? "");
  // Before the first config sync an unknown sale may exist: say so rather than 404.
  if (c === undefined) return sendError(configsKnown() ? "sale_not_found" : "unavailable");
  const nowMs = ngx.now() * 1000;
  // Redis lost a held sale: its window is known, what is left of it is not.
  if (c.held && saleWindowAt(c.sale, nowMs) === "open") return sendSaleHeld();
  sendJson(200, encodeJson(publicSaleView(c, nowMs)), "public, max-age=1");
}
