/** Order ids as tests take them apart (`<sale>.<epoch>.<n>`, contract/src/ids.ts), and orders' expiry on demand. */
import { parseOrderId } from "@flash-sale/contract/ids";
import { createLogger, type Pool, type Redis } from "@flash-sale/node-common";
import { expireReservationsJob } from "../../control-plane/src/jobs/expire-reservations";
import { SaleRepository } from "../../control-plane/src/store/sale-repository";

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

/** Waits until `dueAt` (epoch ms), then runs the expiry job once, as the control plane's jobs would. */
export async function expireAt(dueAt: number, redis: Redis, pool: Pool): Promise<void> {
  await new Promise((r) => setTimeout(r, Math.max(0, dueAt - Date.now())));
  const deps = { redis, repository: new SaleRepository(pool), logger: createLogger("expiry-test", "silent") };
  await expireReservationsJob(deps, "* * * * * *", 30_000).run();
}
