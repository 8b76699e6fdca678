/**
 * Builds a sale's state in Redis from the durable record: on its first publish, and whenever
 * Redis has less than it had (a restart from an old AOF, a failover to a replica that missed
 * writes, an emptied instance, lost keys). The orders are what Postgres holds together with
 * what Redis still holds (orders accepted but not yet drained); from them come units left,
 * taken and paid, the buyers and the counter, and a new epoch from Postgres, so that order
 * numbers Redis forgot and hands out again make new ids.
 *
 * Runs under the sale's row lock (LockedSale): a concurrent admin change waits, and so do
 * the order worker's inserts for this sale (their foreign key takes a share lock on the row),
 * so the rows read cannot change while the state is computed. The fence is removed first:
 * nothing sells, pays or expires until open-sale.lua sets it again.
 *
 * A rebuilt sale has a new, empty waiting room: the old queue's places, cursor and admissions
 * are of the old epoch (tickets and passes name it, and are refused after it), and what Redis
 * kept of them may be behind what shoppers were told. Every waiting shopper's next poll answers
 * 404 not_in_queue and the product page joins again.
 *
 * A sale in stock buckets (core/buckets.ts) is built bucket by bucket: each bucket gets its own
 * orders, buyers and counter (the highest number of its class), and the units left are split
 * evenly over the buckets; moves between buckets in flight are dropped (their units are counted
 * again from the orders), and a move's second step refuses the old epoch.
 *
 * Known race, `everysec` durability only: an order the worker had read before Redis lost it
 * and commits after the rebuild is counted by the next check (the counter is then below the
 * highest order number in Postgres), not by this one.
 */
import { RedisScript, type Logger, type Redis } from "@flash-sale/node-common";
import { bucketOfOrderNo, evenShares, firstOrderNo } from "@flash-sale/contract/buckets";
import { bucketKeysOf, ORDER_CONSUMER_GROUP, orderRecordField, orderStatusField, type SaleKeys } from "@flash-sale/contract/keys";
import { formatOrderRecord, parseOrderRecord } from "@flash-sale/contract/order_record";
import { OPEN_SALE, SALE_BUILD_STATE, type BuildState } from "@flash-sale/contract/scripts/sale";
import { laterStatus, rebuiltState, type KnownOrder, type OrderStatus, type RebuiltState, type StoredOrder } from "./rebuilt-state";
import type { LockedSale, SaleRepository } from "../store/sale-repository";

const OPEN = RedisScript.load(OPEN_SALE);
const BUILD_STATE = RedisScript.load(SALE_BUILD_STATE);
/** Hash fields written per HSET while restoring: keeps each call short next to other sales' purchases. */
const FIELDS_PER_CALL = 1000;
const STATUSES: readonly string[] = ["pending", "confirmed", "paid", "expired", "failed"];

export type BuildReason =
  | "first_build"
  /** The fence names another Redis process: a restart, a failover. */
  | "redis_process_changed"
  /** No fence: the sale's keys or the whole instance were emptied. */
  | "state_missing"
  /** The counter is below the highest order number in Postgres, or counters are gone. */
  | "behind_postgres";

export interface BuildResult extends RebuiltState {
  epoch: number;
  reason: BuildReason;
  /** Orders Postgres holds that Redis had forgotten, written back for GET /api/orders/{id}. */
  restoredOrders: number;
  /** Orders that could not be written back: their number is taken by another epoch's order. */
  unrestorable: number;
}

/** Each bucket's build state, bucket 0 first (one bucket: the sale's). */
export async function readBuildState(redis: Redis, saleId: string, buckets = 1): Promise<BuildState[]> {
  return Promise.all(
    bucketKeysOf(saleId, buckets).map((k) => BUILD_STATE.run(redis, k, {})),
  );
}

/**
 * Why the sale must be rebuilt, or undefined when its Redis state is whole: every bucket's,
 * each against the highest order number of its class in Postgres (`highestInPostgres[b]`).
 */
export function buildReason(states: BuildState[], epoch: number, highestInPostgres: readonly number[]): BuildReason | undefined {
  if (epoch === 0) return "first_build";
  for (const state of states) {
    if (!state.built) return state.seq === 0 && !state.hasStock ? "state_missing" : "redis_process_changed";
  }
  for (const [b, state] of states.entries()) {
    if (!state.hasStock || state.seq < (highestInPostgres[b] ?? 0) || (state.seq > 0 && state.buyers === 0)) return "behind_postgres";
  }
  return undefined;
}

type Orders = Map<string, KnownOrder>;

const orderKey = (epoch: number, orderNo: number) => `${epoch}.${orderNo}`;

function asStatus(s: string | undefined): OrderStatus | undefined {
  return s !== undefined && STATUSES.includes(s) ? (s as OrderStatus) : undefined;
}

export class SaleBuilder {
  constructor(
    private readonly redis: Redis,
    private readonly repository: SaleRepository,
    private readonly logger: Logger,
    private readonly onBuilt: (saleId: string, reason: BuildReason) => void = () => undefined,
  ) {}

  async build(locked: LockedSale, reason: BuildReason): Promise<BuildResult> {
    const { sale } = locked;
    const buckets = sale.stockBuckets;
    const all = bucketKeysOf(sale.id, buckets);
    const k0 = all[0]!;
    const epoch = await this.repository.issueEpoch(locked.db);
    for (const k of all) await this.redis.hdel(k.meta, "fence");
    await this.redis.del(k0.queue, k0.queueState, k0.admissions);
    if (buckets > 1) for (const k of all) await this.redis.del(k.transfers);

    const inRedis = await Promise.all(all.map((k) => this.readRedisOrders(sale.id, k)));
    const orders: Orders = new Map(inRedis.flatMap((r) => [...r.byKey]));
    const fromPostgres: StoredOrder[] = [];
    for (const o of await this.repository.ordersOfSale(locked.db, sale.id)) {
      const key = orderKey(o.epoch, o.orderNo);
      const known = orders.get(key);
      if (known === undefined) {
        orders.set(key, o);
        fromPostgres.push(o);
      } else {
        known.status = laterStatus(known.status, o.status);
      }
    }
    const state = rebuiltState(sale.stock, sale.deduction, orders.values());
    const shares = evenShares(state.unitsLeft, buckets);
    const ofBucket = (b: number) => (o: KnownOrder) => bucketOfOrderNo(o.orderNo, buckets) === b;
    let restoredOrders = 0;
    let runId = "";
    for (const [b, k] of all.entries()) {
      const mine = [...orders.values()].filter(ofBucket(b));
      // The bucket's own counters; its units left are its share of the sale's (rebuiltState's total is unused here).
      const part = buckets === 1 ? state : rebuiltState(0, sale.deduction, mine);
      const restored = await this.restoreOrders(sale.id, k, fromPostgres.filter(ofBucket(b)), inRedis[b]!.takenNumbers);
      restoredOrders += restored.length;
      await this.rewriteBuyers(k, part.buyers);
      await this.rewriteUserOrders(k, [...inRedis[b]!.byKey.values(), ...restored]);
      // A sale in stock buckets: step (the number of buckets), this bucket's first order number, shared.
      const bucketArgs = buckets === 1 ? [] : [buckets, firstOrderNo(b), state.unitsLeft > 0 ? "1" : "0"];
      runId = await OPEN.run(
        this.redis,
        k,
        {
          left: shares[b]!, taken: part.unitsTaken, paidUnits: part.unitsPaid, openUnpaidOrders: part.openUnpaid, lastOrderNo: part.highestOrderNo,
          group: ORDER_CONSUMER_GROUP, epoch, startsAt: Date.parse(sale.startsAt), endsAt: Date.parse(sale.endsAt), paused: sale.paused ? "1" : "0", revision: sale.revision,
        },
        { args: bucketArgs },
      );
    }

    const result: BuildResult = { ...state, epoch, reason, restoredOrders, unrestorable: fromPostgres.length - restoredOrders };
    await this.repository.recordBuild(locked, epoch, reason, summary(result, runId));
    this.onBuilt(sale.id, reason);
    const log = { saleId: sale.id, stockBuckets: buckets, ...summary(result, runId) };
    if (reason === "first_build") this.logger.info(log, "sale state built in Redis");
    else this.logger.warn(log, "sale state rebuilt in Redis from Postgres; selling again");
    if (state.oversold > 0) this.logger.error(log, "sale had taken more units than its total before the rebuild");
    return result;
  }

  /** Every order record of the hash (HSCAN: never one long call), and the numbers in use. */
  private async readRedisOrders(saleId: string, k: SaleKeys): Promise<{ byKey: Orders; takenNumbers: Set<number> }> {
    const records = new Map<string, string>();
    const statuses = new Map<string, string>();
    let cursor = "0";
    do {
      const [next, flat] = await this.redis.hscan(k.orders, cursor, "COUNT", FIELDS_PER_CALL);
      for (let i = 0; i + 1 < flat.length; i += 2) {
        const field = flat[i]!;
        if (field.endsWith(":s")) statuses.set(field.slice(0, -2), flat[i + 1]!);
        else records.set(field, flat[i + 1]!);
      }
      cursor = next;
    } while (cursor !== "0");
    const byKey: Orders = new Map();
    const takenNumbers = new Set<number>();
    for (const [field, text] of records) {
      const record = parseOrderRecord(text);
      const status = asStatus(statuses.get(field));
      const orderNo = Number(field);
      takenNumbers.add(orderNo);
      if (record === undefined || status === undefined) {
        this.logger.error({ saleId, field }, "unreadable order record in Redis left out of the rebuild");
        continue;
      }
      byKey.set(orderKey(record.epoch, orderNo), { ...record, orderNo, status });
    }
    return { byKey, takenNumbers };
  }

  /** Writes back the orders Redis forgot, with the price each was accepted at; answers those written (a taken number is not). */
  private async restoreOrders(saleId: string, k: SaleKeys, orders: StoredOrder[], taken: Set<number>): Promise<KnownOrder[]> {
    const fields: string[] = [];
    const restored: KnownOrder[] = [];
    for (const o of orders) {
      if (taken.has(o.orderNo)) {
        this.logger.error({ saleId, epoch: o.epoch, orderNo: o.orderNo }, "order in Postgres not written back to Redis: its number is another epoch's order there");
        continue;
      }
      taken.add(o.orderNo);
      restored.push(o);
      const n = String(o.orderNo);
      fields.push(orderRecordField(n), formatOrderRecord(o), orderStatusField(n), o.status);
    }
    const orderKeyName = k.orders;
    for (let i = 0; i < fields.length; i += 2 * FIELDS_PER_CALL) await this.redis.hset(orderKeyName, ...fields.slice(i, i + 2 * FIELDS_PER_CALL));
    return restored;
  }

  private async rewriteBuyers(k: SaleKeys, buyers: Map<string, number>): Promise<void> {
    const key = k.buyers;
    await this.redis.del(key);
    const flat = [...buyers].flatMap(([user, units]) => [user, String(units)]);
    for (let i = 0; i < flat.length; i += 2 * FIELDS_PER_CALL) await this.redis.hset(key, ...flat.slice(i, i + 2 * FIELDS_PER_CALL));
  }

  /** The per-user index of the orders the orders hash holds (SaleKeys.userOrders), as the purchase script writes it. */
  private async rewriteUserOrders(k: SaleKeys, orders: KnownOrder[]): Promise<void> {
    const byUser = new Map<string, number[]>();
    for (const o of orders) {
      const numbers = byUser.get(o.userId);
      if (numbers === undefined) byUser.set(o.userId, [o.orderNo]);
      else numbers.push(o.orderNo);
    }
    const key = k.userOrders;
    await this.redis.del(key);
    const flat = [...byUser].flatMap(([user, numbers]) => [user, numbers.sort((a, b) => a - b).join(" ")]);
    for (let i = 0; i < flat.length; i += 2 * FIELDS_PER_CALL) await this.redis.hset(key, ...flat.slice(i, i + 2 * FIELDS_PER_CALL));
  }
}

function summary(r: BuildResult, runId: string) {
  return {
    reason: r.reason,
    epoch: r.epoch,
    redisRunId: runId,
    unitsLeft: r.unitsLeft,
    unitsTaken: r.unitsTaken,
    unitsPaid: r.unitsPaid,
    openUnpaid: r.openUnpaid,
    highestOrderNo: r.highestOrderNo,
    buyers: r.buyers.size,
    restoredOrders: r.restoredOrders,
    unrestorable: r.unrestorable,
    oversold: r.oversold,
  };
}
