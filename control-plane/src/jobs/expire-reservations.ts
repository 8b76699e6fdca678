/**
 * Job: expires the unpaid orders of `reserve` and `payment` sales once their payment timeout
 * has passed: a `reserve` order returns its units to stock (gateways clear their sold-out flag
 * when their config sync next reads units left above 0), a `payment` order frees its place
 * under the sale's bound on open unpaid orders.
 */
import type { Redis } from "@flash-sale/node-common";
import { crashIfAt, type Fault } from "../faults";
import { expireReservations } from "../payments/reservation-expiry";
import type { SaleRepository } from "../store/sale-repository";
import { defineJob, type Job, type JobDeps } from "./scheduler";

/** Reservations outlive the sale's end by at most the payment timeout; a day is ample. */
const EXPIRE_AFTER_END_MS = 24 * 3_600_000;

export interface ExpireReservationsDeps extends JobDeps {
  redis: Redis;
  repository: SaleRepository;
  fault?: Fault;
}

export function expireReservationsJob(deps: ExpireReservationsDeps, schedule: string, leaseMs: number): Job {
  return defineJob("expire-reservations", deps, schedule, leaseMs, async (now) => {
    for (const sale of await deps.repository.publishedTakingPaymentEndingAfter(now() - EXPIRE_AFTER_END_MS)) {
      const result = await expireReservations(deps.redis, sale);
      if (result.expiredOrders > 0) crashIfAt(deps.fault, "mid-expiry");
      if (result.held) deps.logger.info({ saleId: sale.id }, "expiry waits: the sale is held for a rebuild");
      else if (result.expiredOrders > 0) deps.logger.info({ saleId: sale.id, ...result }, "unpaid orders expired");
    }
  });
}
