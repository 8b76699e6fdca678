/** GET /api/sales/{id} — the public view of a sale, from the worker's cache; cacheable for a second. */
import { publicSaleStatus } from "../core/sale";
import { cachedSale } from "../adapters/sale_cache";
import { isSoldOut } from "../adapters/sold_out_flags";
import { encodeJson } from "../adapters/json";
import { sendError, sendJson } from "../http/respond";

export function handleSaleView(this: void): void {
  const c = cachedSale(ngx.var.fs_sale_id ?? "");
  if (c === undefined) return sendError("sale_not_found");
  const s = c.sale;
  const left = c.approxLeft ?? s.stock;
  const soldOut = isSoldOut(s.id) || left <= 0;
  sendJson(
    200,
    encodeJson({
      id: s.id,
      name: s.name,
      price: s.price,
      currency: s.currency,
      startsAt: s.startsAt,
      endsAt: s.endsAt,
      status: publicSaleStatus(s, ngx.now() * 1000, soldOut),
      stock: { total: s.stock, left: left < 0 ? 0 : left },
    }),
    "public, max-age=1",
  );
}
