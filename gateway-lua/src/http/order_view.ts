/** An order as GET /api/orders and GET /api/orders/{id} answer it, with what the gateway knows of its sale. */
import type { PublishedSale } from "../core/sale";
import { isoTime } from "./time_format";

export interface OrderFacts {
  orderId: string;
  saleId: string;
  status: string;
  quantity: number;
  acceptedAtMs: number;
}

/** `sale` is undefined once the gateway no longer knows the sale: its name, price and deduction are then left out. */
export function orderView(o: OrderFacts, sale: PublishedSale | undefined): object {
  const timeoutSeconds = sale?.deduction === "order" ? undefined : sale?.paymentTimeoutSeconds;
  return {
    orderId: o.orderId,
    saleId: o.saleId,
    saleName: sale?.name,
    price: sale?.price,
    currency: sale?.currency,
    status: o.status,
    quantity: o.quantity,
    acceptedAt: isoTime(o.acceptedAtMs),
    deduction: sale?.deduction,
    payBy: timeoutSeconds === undefined ? undefined : isoTime(o.acceptedAtMs + timeoutSeconds * 1000),
  };
}
