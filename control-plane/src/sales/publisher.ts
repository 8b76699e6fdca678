/**
 * Publishes a stored sale to Redis for the gateways, in two scripts because the sale's keys
 * and the config keys live on different cluster slots: redis-scripts/prepare-sale.lua (stock
 * preload, the order stream's consumer group), then redis-scripts/publish-config.lua (config
 * record and version).
 */
import { readFileSync } from "node:fs";
import path from "node:path";
import type { Redis } from "@flash-sale/node-common";
import { CONFIG_VERSION_KEY, ORDER_CONSUMER_GROUP, SALE_CONFIGS_KEY, saleKeys } from "@flash-sale/gateway-lua/core/keys";
import { parsePublishedSale, type PublishedSale } from "@flash-sale/gateway-lua/core/sale";
import type { Queryable, Sale, SaleRepository } from "./repository";

// Two levels up from both src/sales (ts-jest) and build/sales (node).
const SCRIPT_DIR = path.resolve(__dirname, "../../redis-scripts");

export interface PublishResult {
  version: number;
  /** False when the sale already had stock in Redis, which was left as it was. */
  stockPreloaded: boolean;
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
  };
}

export class SalePublisher {
  private readonly prepareScript = readFileSync(path.join(SCRIPT_DIR, "prepare-sale.lua"), "utf8");
  private readonly publishScript = readFileSync(path.join(SCRIPT_DIR, "publish-config.lua"), "utf8");
  private readonly unpublishScript = readFileSync(path.join(SCRIPT_DIR, "unpublish-config.lua"), "utf8");

  constructor(
    private readonly redis: Redis,
    private readonly repository: SaleRepository,
  ) {}

  /** `db` records the version: the transaction holding the sale's lock, when there is one. */
  async publish(sale: Sale, db?: Queryable): Promise<PublishResult> {
    const record = publishedRecord(sale);
    // Gateways skip a record their parser refuses: refuse it here first, loudly.
    const refused = parsePublishedSale({ ...record, version: 1 });
    if (typeof refused === "string") throw new Error(`sale ${sale.id}: the gateway would refuse field ${refused}`);

    const preloaded = await this.prepare(sale);
    const version = await this.redis.eval(this.publishScript, 2, CONFIG_VERSION_KEY, SALE_CONFIGS_KEY, sale.id, JSON.stringify(record));
    if (typeof version !== "number") throw new Error(`publish-config.lua answered ${JSON.stringify(version)}`);
    await this.repository.recordPublishedVersion(sale.id, version, db);
    return { version, stockPreloaded: preloaded };
  }

  /**
   * Loads the sale's stock unless it is loaded or units were sold (never resets a live count),
   * and makes the order stream's consumer group; true when this call loaded the stock.
   */
  async prepare(sale: Sale): Promise<boolean> {
    const keys = saleKeys(sale.id);
    // Publishing is a rare admin action: plain EVAL, no script cache to manage.
    const preloaded = await this.redis.eval(
      this.prepareScript,
      3,
      keys.stock,
      keys.stream,
      keys.sold,
      sale.stock,
      ORDER_CONSUMER_GROUP,
    );
    if (preloaded !== 0 && preloaded !== 1) throw new Error(`prepare-sale.lua answered ${JSON.stringify(preloaded)}`);
    return preloaded === 1;
  }

  /** Withdraws a sale from the gateways, then drops its keys (stock, buyers, orders, stream). */
  async unpublish(saleId: string): Promise<void> {
    await this.redis.eval(this.unpublishScript, 2, CONFIG_VERSION_KEY, SALE_CONFIGS_KEY, saleId);
    await this.redis.del(...Object.values(saleKeys(saleId))); // one slot: one hash tag
  }
}
