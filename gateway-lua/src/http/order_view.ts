/** An order as GET /api/orders and GET /api/orders/{id} answer it, with what the gateway knows of its sale. */
import type { OrderRecord } from "@flash-sale/contract/order_record";
import type { PublishedSale } from "@flash-sale/contract/sale";
import { isoTime } from "./time_format";

/**
 * The price and currency are the order's own, as it was accepted. `sale` is undefined once the
 * gateway no longer knows the sale: its name and deduction are then left out, and so is the
 * price of a record written before orders carried one (else the sale's, as the order worker
 * stores it for such an order).
 */
export function orderView(orderId: string, saleId: string, r: OrderRecord, status: string, sale: PublishedSale | undefined): object {
  const timeoutSeconds = sale?.deduction === "order" ? undefined : sale?.paymentTimeoutSeconds;
  return {
    orderId,
    saleId,
    saleName: sale?.name,
    price: r.price ?? sale?.price,
    currency: r.currency ?? sale?.currency,
    status,
    quantity: r.quantity,
    acceptedAt: isoTime(r.acceptedAtMs),
    deduction: sale?.deduction,
    payBy: timeoutSeconds === undefined ? undefined : isoTime(r.acceptedAtMs + timeoutSeconds * 1000),
  };
}
