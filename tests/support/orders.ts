/** Order ids as tests take them apart: `<sale>.<epoch>.<n>` (contract/src/ids.ts). */
import { parseOrderId } from "@flash-sale/contract/ids";

function refOf(orderId: string) {
  const ref = parseOrderId(orderId);
  if (ref === undefined) throw new Error(`not an order id: ${orderId}`);
  return ref;
}

/** The order's number: its field in the sale's orders hash. */
export function orderNoOf(orderId: string): string {
  return refOf(orderId).orderNo;
}

/** The epoch of the build that took the order. */
export function epochOf(orderId: string): number {
  return Number(refOf(orderId).epoch);
}
