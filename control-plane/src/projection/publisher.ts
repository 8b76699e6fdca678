/**
 * Applies a sale as committed in Postgres to Redis, after the commit, in steps because the
 * sale's keys and the config keys live on different cluster slots: the sale's state is built
 * when it is not built on this Redis process (sale-builder.ts: never a reset of a sale that has
 * orders), its window, pause and units left applied to its own keys
 * (redis-scripts/sale/apply-sale.lua), then its config record and version for the gateways
 * (redis-scripts/config/publish-config.lua). Each step is idempotent and ordered by the sale's
 * revision, so an apply may be repeated, interrupted or late: Redis never moves back.
 *
 * Lowering the stock is the one change taken out of Redis before its commit
 * (redis-scripts/sale/lower-stock.lua, with an intent in the sale's meta): the apply of its revision
 * clears the intent, and an apply under the row lock that finds an intent above the committed
 * revision undoes it (that lowering never committed).
 */
import { randomUUID } from "node:crypto";
import { RedisScript, type Redis } from "@flash-sale/node-common";
import { bucketKeysOf, CONFIG_EPOCH_KEY, CONFIG_VERSION_KEY, ORDER_CONSUMER_GROUP, SALE_CONFIGS_KEY, SALE_WITHDRAWALS_KEY, saleKeys } from "@flash-sale/contract/keys";
import { parsePublishedSale, type PublishedSale } from "@flash-sale/contract/sale";
import { PUBLISH_CONFIG, UNPUBLISH_CONFIG } from "@flash-sale/contract/scripts/config";
import { APPLY_SALE, LOWER_STOCK, WITHDRAW_SALE, type ApplyReply } from "@flash-sale/contract/scripts/sale";
import { unhandledReply } from "@flash-sale/contract/scripts/script";
import { pickValues, PUBLISHED_NAMES } from "../sales/fields";
import type { LockedSale, Sale, SaleRepository } from "../store/sale-repository";
import { buildReason, readBuildState, type BuildReason, type SaleBuilder } from "./sale-builder";

/** KEYS of publish-config.lua and unpublish-config.lua. */
const CONFIG_KEYS = { version: CONFIG_VERSION_KEY, configs: SALE_CONFIGS_KEY, epoch: CONFIG_EPOCH_KEY, withdrawals: SALE_WITHDRAWALS_KEY };
const APPLY = RedisScript.load(APPLY_SALE);
const LOWER = RedisScript.load(LOWER_STOCK);
const PUBLISH = RedisScript.load(PUBLISH_CONFIG);
const UNPUBLISH = RedisScript.load(UNPUBLISH_CONFIG);
const WITHDRAW = RedisScript.load(WITHDRAW_SALE);

/** What the sale's own keys answered (apply-sale.lua). */
export type KeysApplied =
  | { kind: "applied"; unitsLeft: number; unitsTaken: number; unitsLeftBefore: number }
  /** The total is below the units taken: units left were set to 0. */
  | { kind: "short"; unitsTaken: number; unitsLeftBefore: number }
  /** This revision or a newer one was in place already (e.g. the build wrote it). */
  | { kind: "current"; revision: number }
  /** A lowering that never committed was undone: units left are the committed total − taken. */
  | { kind: "undone"; intent: string; unitsLeft: number; unitsTaken: number; unitsLeftBefore: number };

/** What lowering the stock in Redis answered (lower-stock.lua). */
export type StockLowering =
  /** Taken out: units left are the new total − taken; the intent is recorded until applied or undone. */
  | { kind: "lowered"; intent: string; unitsLeft: number; unitsTaken: number }
  /** The new total is below the units taken: nothing written. */
  | { kind: "refused"; unitsLeft: number; unitsTaken: number }
  /** The sale is held in Redis (not built on this process): nothing sells until it is rebuilt from Postgres. */
  | { kind: "held" };

/** A lowering of the stock taken out in Redis whose revision is not yet applied (lower-stock.lua). */
export interface LoweringIntent {
  intent: string;
  total: number;
  revision: number;
}

export interface ApplyResult {
  /** The config version the gateways read the sale at. */
  version: number;
  /** Why this apply built the sale's state in Redis; undefined when it was built already. */
  built: BuildReason | undefined;
  keys: KeysApplied;
}

/**
 * The gateway's record of a sale: its published settings (sales/fields.ts), the instants in epoch ms,
 * the pause; but for `version`, which the script sets. `revision` orders the publishes
 * (publish-config.lua); the gateway ignores it.
 */
export function publishedRecord(sale: Sale): Omit<PublishedSale, "version"> & { revision: number } {
  return {
    id: sale.id,
    ...pickValues(sale, PUBLISHED_NAMES),
    startsAtMs: Date.parse(sale.startsAt),
    endsAtMs: Date.parse(sale.endsAt),
    paused: sale.paused,
    revision: sale.revision,
  };
}

/** The sale's record, refused here, loudly, when a gateway would skip it or drop a setting it does not read. */
function checkedRecord(sale: Sale): ReturnType<typeof publishedRecord> {
  const record = publishedRecord(sale);
  const read = parsePublishedSale({ ...record, version: 1 });
  if (typeof read === "string") throw new Error(`sale ${sale.id}: the gateway would refuse field ${read}`);
  const unread = PUBLISHED_NAMES.filter((name) => record[name] !== undefined && read[name] === undefined);
  if (unread.length > 0) throw new Error(`sale ${sale.id}: the gateway does not read the published settings ${unread.join(", ")}`);
  return record;
}

export type Withdrawal =
  | { kind: "dropped" }
  /** Redis holds orders of the sale: nothing was dropped. */
  | { kind: "refused"; orders: number; orderNumbers: number; unacknowledged: number };

export class SalePublisher {
  constructor(
    private readonly redis: Redis,
    private readonly repository: SaleRepository,
    private readonly builder: SaleBuilder,
  ) {}

  /**
   * Applies the locked sale (its committed row) to Redis: built first when it must be, and a
   * lowering that never committed undone. `afterSaleKeys` runs between the sale's keys and its
   * config record (a fault-injection point).
   */
  async apply(locked: LockedSale, afterSaleKeys: () => void = () => undefined): Promise<ApplyResult> {
    const { sale } = locked;
    const record = checkedRecord(sale);
    const built = await this.ensureBuilt(locked);
    const keys = await this.applyKeys(sale, await this.abandonedLowering(locked));
    afterSaleKeys();
    const version = await this.publishConfig(record);
    await this.repository.recordPublishedVersion(sale.id, version, locked.db);
    return { version, built, keys };
  }

  /**
   * Applies a committed sale without its row lock, so that a Redis that stalls holds up no other
   * transaction on the row (a change, the order worker's inserts): each step is ordered by the
   * revision, so a late apply undoes nothing newer. It undoes no lowering either: unlocked, an
   * intent above this revision may be one about to commit (the next apply under the lock settles
   * it). Undefined when the sale must be applied under its lock instead (`apply`): it needs a
   * build, or it was deleted since its commit (its config record, written late, is withdrawn).
   */
  async applyCommitted(sale: Sale, afterSaleKeys: () => void = () => undefined): Promise<ApplyResult | undefined> {
    const record = checkedRecord(sale);
    if ((await this.buildNeeded(sale)) !== undefined) return undefined;
    const keys = await this.applyKeys(sale, "");
    afterSaleKeys();
    const version = await this.publishConfig(record);
    // Waits for a delete in progress (its row lock): a record written after its withdrawal is withdrawn again.
    if (!(await this.repository.recordPublishedVersion(sale.id, version))) {
      await this.withdrawConfig(sale.id);
      return undefined;
    }
    return { version, built: undefined, keys };
  }

  /** Builds the sale's state when it is not built on this Redis process or is behind Postgres. */
  async ensureBuilt(locked: LockedSale): Promise<BuildReason | undefined> {
    const reason = await this.buildNeeded(locked.sale);
    if (reason !== undefined) await this.builder.build(locked, reason);
    return reason;
  }

  /** Why the sale's state must be built on this Redis process; undefined when it is whole. */
  private async buildNeeded(sale: Sale): Promise<BuildReason | undefined> {
    const { id, stockBuckets } = sale;
    const state = await readBuildState(this.redis, id, stockBuckets);
    const highest = stockBuckets === 1
      ? [(await this.repository.highestOrderNumbers([id])).get(id) ?? 0]
      : await this.repository.highestOrderNumbersByBucket(id, stockBuckets);
    return buildReason(state, sale.epoch, highest);
  }

  /** Writes the sale's config record for the gateways (publish-config.lua); answers its version. */
  private async publishConfig(record: ReturnType<typeof publishedRecord>): Promise<number> {
    const { version } = await PUBLISH.run(this.redis, CONFIG_KEYS, { saleId: record.id, record: JSON.stringify(record) });
    return version;
  }

  /**
   * Takes units out of Redis before a lower total is committed (under the row lock, see
   * sales/changes.ts): units left become `total` − taken, only if `total` covers the units taken. A
   * lowering of an earlier change that never committed is undone first.
   */
  async lowerStock(locked: LockedSale, total: number): Promise<StockLowering> {
    const { id, revision } = locked.sale;
    const k = saleKeys(id);
    const intent = randomUUID();
    for (let attempt = 0; ; attempt++) {
      const reply = await LOWER.run(this.redis, k, { total, revision: revision + 1, intent });
      switch (reply.reply) {
        case "lowered":
          return { kind: "lowered", intent, unitsLeft: reply.left, unitsTaken: reply.taken };
        case "refused":
          return { kind: "refused", unitsLeft: reply.left, unitsTaken: reply.taken };
        case "held":
          return { kind: "held" };
        case "other_intent":
          // Above the committed revision it never committed (we hold the lock), so undo it; at or
          // below, it committed unapplied, so apply it. Then try once more.
          if (attempt === 0) {
            await this.applyKeys(locked.sale, reply.revision > revision ? reply.intent : "");
            continue;
          }
          break;
        case "already_applied":
          break;
        default:
          return unhandledReply(reply);
      }
      throw new Error(`sale ${id}: lower-stock.lua answered ${JSON.stringify(reply)} at revision ${revision}`);
    }
  }

  /** The intent of a lowering that never committed: its revision is above the locked row's. */
  private async abandonedLowering(locked: LockedSale): Promise<string> {
    if (locked.sale.stockBuckets > 1) return "";
    const { lowering: pending } = await this.appliedState(locked.sale.id);
    return pending !== undefined && pending.revision > locked.sale.revision ? pending.intent : "";
  }

  /**
   * Every bucket's keys (one bucket: the sale's); the answer is the sale's, summed over its
   * buckets. `undo`: a lowering's intent to undo (see apply-sale.lua), or "".
   */
  private async applyKeys(sale: Sale, undo: string): Promise<KeysApplied> {
    const split = sale.stockBuckets > 1;
    const replies: Exclude<ApplyReply, { reply: "held" }>[] = [];
    for (const k of bucketKeysOf(sale.id, sale.stockBuckets)) {
      const reply = await APPLY.run(this.redis, k, {
        revision: sale.revision, total: split ? "" : sale.stock, startsAt: Date.parse(sale.startsAt), endsAt: Date.parse(sale.endsAt),
        paused: sale.paused ? "1" : "0", undoIntent: undo,
      });
      // Redis restarted (or lost the sale) between the build and the apply: the builder applies it.
      if (reply.reply === "held") throw new Error(`sale ${sale.id} is held in Redis (not built on this process): not applied`);
      replies.push(reply);
    }
    const first = replies[0]!;
    const sum = (of: "left" | "taken" | "leftBefore") => replies.reduce((n, r) => n + ("left" in r ? r[of] : 0), 0);
    switch (first.reply) {
      case "applied":
        return { kind: "applied", unitsLeft: sum("left"), unitsTaken: sum("taken"), unitsLeftBefore: sum("leftBefore") };
      case "below_taken":
        return { kind: "short", unitsTaken: sum("taken"), unitsLeftBefore: sum("leftBefore") };
      case "undone":
        return { kind: "undone", intent: undo, unitsLeft: sum("left"), unitsTaken: sum("taken"), unitsLeftBefore: sum("leftBefore") };
      case "already_applied":
        return { kind: "current", revision: first.revision };
      default:
        return unhandledReply(first);
    }
  }

  /**
   * What the sale's meta holds, one read per bucket: the revision Redis applied (the lowest of its
   * buckets'; 0 when none) and a lowering's intent, if any (stock buckets are never lowered).
   */
  async appliedState(saleId: string, buckets = 1): Promise<{ revision: number; lowering: LoweringIntent | undefined }> {
    const metas = await Promise.all(
      bucketKeysOf(saleId, buckets).map((k) => this.redis.hmget(k.meta, "revision", "lowerIntent", "lowerTotal", "lowerRevision")),
    );
    const [, intent, total, revision] = metas[0]!;
    return {
      revision: Math.min(...metas.map(([applied]) => Number(applied ?? 0))),
      lowering: intent === null || intent === undefined ? undefined : { intent, total: Number(total), revision: Number(revision) },
    };
  }

  /** The revision of each sale's config record for the gateways; absent when it has none. */
  async configRevisions(saleIds: string[]): Promise<Map<string, number>> {
    const revisions = new Map<string, number>();
    if (saleIds.length === 0) return revisions;
    const records = await this.redis.hmget(SALE_CONFIGS_KEY, ...saleIds);
    records.forEach((json, i) => {
      if (json !== null) revisions.set(saleIds[i]!, Number((JSON.parse(json) as { revision?: number }).revision ?? 0));
    });
    return revisions;
  }

  /** Drops the sale's keys (stock, buyers, orders, stream …; each bucket's) unless Redis holds orders of it. */
  async withdrawKeys(saleId: string, buckets = 1): Promise<Withdrawal> {
    for (const k of bucketKeysOf(saleId, buckets)) {
      // Every key of the bucket, dropped: one slot, one hash tag.
      const reply = await WITHDRAW.run(this.redis, k, { group: ORDER_CONSUMER_GROUP }, { keys: Object.values(k) });
      if (reply.reply === "refused") return { kind: "refused", orders: reply.orders, orderNumbers: reply.seq, unacknowledged: reply.unacknowledged };
    }
    return { kind: "dropped" };
  }

  /** Withdraws a sale's config record from the gateways (a new config version). */
  async withdrawConfig(saleId: string): Promise<void> {
    await UNPUBLISH.run(this.redis, CONFIG_KEYS, { saleId });
  }
}
