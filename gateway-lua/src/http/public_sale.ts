/** The public view of a sale (GET /api/sales and /api/sales/{id}), with its status by the server's clock. */
import { publicSaleStatus, type PublicSaleView } from "@flash-sale/contract/sale";
import type { CachedSale } from "../adapters/sale_cache";
import { isSoldOut } from "../adapters/sold_out_flags";
import { queueOpensAtMs } from "@flash-sale/contract/waiting_room";
import { isoTime } from "./time_format";

export function publicSaleView(c: CachedSale, nowMs: number): PublicSaleView {
  const s = c.sale;
  const left = c.approxLeft ?? s.stock;
  const soldOut = isSoldOut(s.id) || left <= 0;
  return {
    id: s.id,
    name: s.name,
    price: s.price,
    currency: s.currency,
    startsAt: s.startsAt,
    endsAt: s.endsAt,
    status: publicSaleStatus(s, nowMs, soldOut),
    challenge: s.challenge,
    perUserLimit: s.perUserLimit,
    stock: { total: s.stock, left: left < 0 ? 0 : left },
    waitingRoom: s.waitingRoom === undefined ? undefined : { opensAt: isoTime(queueOpensAtMs(s, s.waitingRoom)) },
  };
}
