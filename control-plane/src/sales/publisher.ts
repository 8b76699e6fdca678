/**
 * Publishes a stored sale to Redis for the gateways, in steps because the sale's keys and the
 * config keys live on different cluster slots: the sale's state is built when it is not built
 * on this Redis process (sale-builder.ts: never a reset of a sale that has orders), its window
 * applied to its own keys (redis-scripts/set-sale-window.lua), then its config record and
 * version (redis-scripts/publish-config.lua).
 */
import { readFileSync } from "node:fs";
import path from "node:path";
import type { Redis } from "@flash-sale/node-common";
import { CONFIG_VERSION_KEY, SALE_CONFIGS_KEY, saleKeys } from "@flash-sale/gateway-lua/core/keys";
import { parsePublishedSale, type PublishedSale } from "@flash-sale/gateway-lua/core/sale";
import type { LockedSale, Sale, SaleRepository } from "./repository";
import { buildReason, readBuildState, type BuildReason, type SaleBuilder } from "./sale-builder";

// Two levels up from both src/sales (ts-jest) and build/sales (node).
const SCRIPT_DIR = path.resolve(__dirname, "../../redis-scripts");

export interface PublishResult {
  version: number;
  /** Why this publish built the sale's state in Redis; undefined when it was built already. */
  built: BuildReason | undefined;
}
/** The gateway's record of a sale, but for `version`, which the script sets. */
export function publishedRecord(sale: Sale): Omit<PublishedSale, "version"> {
  return {
    id: sale.id,
    name: sale.name,
    price: sale.price,
    currency: sale.currency,
    stock: sale.stock,
    startsAt: sale.startsAt,
    endsAt: sale.endsAt,
    startsAtMs: Date.parse(sale.startsAt),
    endsAtMs: Date.parse(sale.endsAt),
    perUserLimit: sale.perUserLimit,
    deduction: sale.deduction,
    paymentTimeoutSeconds: sale.paymentTimeoutSeconds,
    challenge: sale.challenge,
    paused: sale.paused,
    limits: sale.limits,
    waitingRoom: sale.waitingRoom,
  };
}

export class SalePublisher {
  private readonly windowScript = readFileSync(path.join(SCRIPT_DIR, "set-sale-window.lua"), "utf8");
  private readonly publishScript = readFileSync(path.join(SCRIPT_DIR, "publish-config.lua"), "utf8");
  private readonly unpublishScript = readFileSync(path.join(SCRIPT_DIR, "unpublish-config.lua"), "utf8");

  constructor(
    private readonly redis: Redis,
    private readonly repository: SaleRepository,
    private readonly builder: SaleBuilder,
  ) {}

  /** Publishes `sale` (the locked one, or its changed record) in the lock's transaction. */
  async publish(locked: LockedSale, sale: Sale = locked.sale): Promise<PublishResult> {
    const record = publishedRecord(sale);
    // Gateways skip a record their parser refuses: refuse it here first, loudly.
    const refused = parsePublishedSale({ ...record, version: 1 });
    if (typeof refused === "string") throw new Error(`sale ${sale.id}: the gateway would refuse field ${refused}`);

    const built = await this.ensureBuilt({ sale, db: locked.db });
    await this.applyWindow(sale);
    const version = await this.redis.eval(this.publishScript, 2, CONFIG_VERSION_KEY, SALE_CONFIGS_KEY, sale.id, JSON.stringify(record));
    if (typeof version !== "number") throw new Error(`publish-config.lua answered ${JSON.stringify(version)}`);
    await this.repository.recordPublishedVersion(sale.id, version, locked.db);
    return { version, built };
  }

  /** Builds the sale's state when it is not built on this Redis process or is behind Postgres. */
  async ensureBuilt(locked: LockedSale): Promise<BuildReason | undefined> {
    const state = await readBuildState(this.redis, locked.sale.id);
    const highest = (await this.repository.highestOrderNumbers([locked.sale.id])).get(locked.sale.id) ?? 0;
    const reason = buildReason(state, locked.sale.epoch, highest);
    if (reason !== undefined) await this.builder.build(locked, reason);
    return reason;
  }

  /** The window and pause the purchase script judges by Redis' clock; ordered by revision. */
  private async applyWindow(sale: Sale): Promise<void> {
    await this.redis.eval(this.windowScript, 1, saleKeys(sale.id).meta,
      Date.parse(sale.startsAt), Date.parse(sale.endsAt), sale.paused ? "1" : "0", sale.revision);
  }

  /** Withdraws a sale from the gateways, then drops its keys (stock, buyers, orders, stream). */
  async unpublish(saleId: string): Promise<void> {
    await this.redis.eval(this.unpublishScript, 2, CONFIG_VERSION_KEY, SALE_CONFIGS_KEY, saleId);
    await this.redis.del(...Object.values(saleKeys(saleId))); // one slot: one hash tag
  }
}
