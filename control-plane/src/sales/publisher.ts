/**
 * Publishes a stored sale to Redis for the gateways (redis-scripts/publish-sale.lua):
 * config record and version, stock preload, the order stream's consumer group.
 */
import { readFileSync } from "node:fs";
import path from "node:path";
import type { Redis } from "@flash-sale/node-common";
import { CONFIG_VERSION_KEY, ORDER_CONSUMER_GROUP, SALE_CONFIGS_KEY, saleKeys } from "@flash-sale/gateway-lua/core/keys";
import { parsePublishedSale, type PublishedSale } from "@flash-sale/gateway-lua/core/sale";
import type { Sale, SaleRepository } from "./repository";

// Two levels up from both src/sales (ts-jest) and build/sales (node).
const PUBLISH_SALE_SCRIPT = path.resolve(__dirname, "../../redis-scripts/publish-sale.lua");

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
  private readonly script = readFileSync(PUBLISH_SALE_SCRIPT, "utf8");

  constructor(
    private readonly redis: Redis,
    private readonly repository: SaleRepository,
  ) {}

  async publish(sale: Sale): Promise<PublishResult> {
    const record = publishedRecord(sale);
    // Gateways skip a record their parser refuses: refuse it here first, loudly.
    const refused = parsePublishedSale({ ...record, version: 1 });
    if (typeof refused === "string") throw new Error(`sale ${sale.id}: the gateway would refuse field ${refused}`);

    const keys = saleKeys(sale.id);
    // Publishing is a rare admin action: plain EVAL, no script cache to manage.
    const reply = await this.redis.eval(
      this.script,
      4,
      CONFIG_VERSION_KEY,
      SALE_CONFIGS_KEY,
      keys.stock,
      keys.stream,
      sale.id,
      JSON.stringify(record),
      sale.stock,
      ORDER_CONSUMER_GROUP,
    );
    if (!Array.isArray(reply) || typeof reply[0] !== "number" || typeof reply[1] !== "number") {
      throw new Error(`publish-sale.lua answered ${JSON.stringify(reply)}`);
    }
    const version = reply[0];
    await this.repository.recordPublishedVersion(sale.id, version);
    return { version, stockPreloaded: reply[1] === 1 };
  }
}
