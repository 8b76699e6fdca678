/**
 * Changes of a stored sale (update, pause, resume, end, delete): each under the sale's row
 * lock, checked against the sale's state, written with its audit entry, and republished to
 * the gateways before the commit, so that the config in Redis follows Postgres change by
 * change. When Redis cannot be written, nothing is changed.
 */
import type { Logger, Redis } from "@flash-sale/node-common";
import { ApiError } from "../http/api-error";
import { fieldErrors } from "../http/field-errors";
import { actionRefusal, endNow, hasStarted, saleState, startedSaleRefusals, type SaleState } from "./lifecycle";
import { adjustLiveStock } from "./live-stock";
import { mergePatch } from "./merge-patch";
import type { PublishResult, SalePublisher } from "./publisher";
import type { LockedSale, Sale, SaleRepository } from "./repository";
import { conflictingChange, invalidSale, refusedInState } from "./sale-errors";
import type { saleInputSchema, SaleSettings } from "./schema";

export interface SaleChangesDeps {
  repository: SaleRepository;
  publisher: SalePublisher;
  redis: Redis;
  schema: ReturnType<typeof saleInputSchema>;
  logger: Logger;
  /** Epoch ms; the clock the sale's state is judged by. */
  now?: () => number;
}

/** A sale with the state it is in. */
export type SaleView = Sale & { state: SaleState };

/** The settings of a stored sale, as the schema takes them (what PATCH is applied to). */
function settingsOf(sale: Sale): { [field: string]: unknown } {
  return {
    id: sale.id,
    name: sale.name,
    price: sale.price,
    currency: sale.currency,
    stock: sale.stock,
    startsAt: sale.startsAt,
    endsAt: sale.endsAt,
    perUserLimit: sale.perUserLimit,
    deduction: sale.deduction,
    ...(sale.paymentTimeoutSeconds === undefined ? {} : { paymentTimeoutSeconds: sale.paymentTimeoutSeconds }),
    challenge: sale.challenge,
    limits: sale.limits,
    ...(sale.waitingRoom === undefined ? {} : { waitingRoom: sale.waitingRoom }),
  };
}

/** JSON with sorted keys: Postgres jsonb does not keep the key order. */
function canonical(v: unknown): string {
  if (typeof v !== "object" || v === null || Array.isArray(v)) return JSON.stringify(v);
  const entries = Object.entries(v)
    .filter(([, x]) => x !== undefined)
    .sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0));
  return `{${entries.map(([k, x]) => `${JSON.stringify(k)}:${canonical(x)}`).join(",")}}`;
}

function isObject(v: unknown): v is { [key: string]: unknown } {
  return typeof v === "object" && v !== null && !Array.isArray(v);
}

export class SaleChanges {
  private readonly now: () => number;

  constructor(private readonly deps: SaleChangesDeps) {
    this.now = deps.now ?? Date.now;
  }

  view(sale: Sale): SaleView {
    return { ...sale, state: saleState(sale, this.now()) };
  }

  /** Applies a JSON merge patch to the sale's settings; the result is validated as a whole. */
  async update(id: string, patch: unknown, actor: string): Promise<SaleView> {
    if (!isObject(patch)) throw invalidSale([{ path: "", message: "must be a JSON object" }]);
    if (patch["id"] !== undefined && patch["id"] !== id) throw invalidSale([{ path: "id", message: "cannot be changed" }]);
    return this.change(id, "update", async (locked, state) => {
      const parsed = this.deps.schema.safeParse(mergePatch(settingsOf(locked.sale), patch));
      if (!parsed.success) throw invalidSale(fieldErrors(parsed.error));
      const settings = parsed.data;
      if (hasStarted(state)) {
        const refusals = startedSaleRefusals(locked.sale, settings);
        if (refusals.length > 0) throw conflictingChange(refusals);
      }
      if (canonical(settingsOf(locked.sale)) === canonical({ ...settings, id })) return locked.sale;
      return this.withStockChange(locked, settings.stock - locked.sale.stock, async () =>
        this.republished(locked, await this.deps.repository.update(locked, settings, actor)),
      );
    });
  }

  /** Publishes the sale as stored (a draft's first publish; a repair after Redis lost it). */
  async publish(id: string, actor: string): Promise<PublishResult> {
    const result = await this.deps.repository.withLockedSale(id, async (locked) => {
      const published = await this.deps.publisher.publish(locked);
      await this.deps.repository.recordPublish(locked, published.version, actor);
      return published;
    });
    if (result === undefined) throw new ApiError("sale_not_found");
    return result;
  }

  /** Pausing a paused sale (or resuming a running one) changes nothing. */
  async setPaused(id: string, paused: boolean, actor: string): Promise<SaleView> {
    return this.change(id, paused ? "pause" : "resume", async (locked) => {
      if (locked.sale.paused === paused) return locked.sale;
      return this.republished(locked, await this.deps.repository.setPaused(locked, paused, actor));
    });
  }

  /** Ends a started sale now; ending an ended sale changes nothing. */
  async end(id: string, actor: string): Promise<SaleView> {
    return this.change(id, "end", async (locked, state) => {
      if (state === "ended") return locked.sale;
      const ended = await this.deps.repository.setEndsAt(locked, endNow(locked.sale, this.now()), actor);
      return this.republished(locked, ended);
    });
  }

  /** Deletes a sale that has not started, and withdraws it from the gateways. */
  async delete(id: string, actor: string): Promise<void> {
    await this.change(id, "delete", async (locked) => {
      await this.deps.repository.delete(locked, actor);
      await this.deps.publisher.unpublish(id).catch((err: unknown) => {
        this.deps.logger.error({ err, saleId: id }, "sale not withdrawn from Redis; not deleted");
        throw new ApiError("unavailable", "Redis is unreachable; the sale was not deleted. Retry later.");
      });
      return locked.sale;
    });
  }

  /** Runs `apply` on the locked sale once its state allows `action`. */
  private async change(
    id: string,
    action: "update" | "pause" | "resume" | "end" | "delete",
    apply: (locked: LockedSale, state: SaleState) => Promise<Sale>,
  ): Promise<SaleView> {
    const sale = await this.deps.repository.withLockedSale(id, async (locked) => {
      const state = saleState(locked.sale, this.now());
      const refusal = actionRefusal(action, state);
      if (refusal !== undefined) throw refusedInState(refusal, state);
      return apply(locked, state);
    });
    if (sale === undefined) throw new ApiError("sale_not_found");
    return this.view(sale);
  }

  /**
   * Moves the units left in Redis by the change of the total, then runs `write`; takes the
   * units back when `write` fails, as the transaction then rolls back.
   */
  private async withStockChange(locked: LockedSale, change: number, write: () => Promise<Sale>): Promise<Sale> {
    if (change === 0) return write();
    const { redis, logger } = this.deps;
    const adjusted = await adjustLiveStock(redis, locked.sale.id, change).catch((err: unknown) => {
      logger.error({ err, saleId: locked.sale.id }, "stock not adjusted in Redis; sale not changed");
      throw new ApiError("unavailable", "Redis is unreachable; the sale was not changed. Retry later.");
    });
    if (adjusted.kind === "refused") {
      const committed = locked.sale.stock - adjusted.unitsLeft;
      throw conflictingChange([
        { path: "stock", message: `must be at least ${committed}: that many units are sold or reserved` },
      ]);
    }
    try {
      return await write();
    } catch (err) {
      if (adjusted.kind === "applied") {
        await adjustLiveStock(redis, locked.sale.id, -change).catch((undoErr: unknown) => {
          // Reconciliation reports the drift; the admin is told the change failed.
          logger.error({ err: undoErr, saleId: locked.sale.id, change }, "stock change not undone in Redis");
        });
      }
      throw err;
    }
  }

  /** Publishes the changed sale in the lock's transaction; a draft stays unpublished. */
  private async republished(locked: LockedSale, changed: Sale): Promise<Sale> {
    if (locked.sale.publishedVersion === null) return changed;
    const published = await this.deps.publisher.publish(locked, changed).catch((err: unknown) => {
      this.deps.logger.error({ err, saleId: changed.id }, "sale change not published; not changed");
      throw new ApiError("unavailable", "The change could not be published to Redis; the sale was not changed. Retry later.");
    });
    this.deps.logger.info({ saleId: changed.id, ...published }, "sale republished");
    return { ...changed, publishedVersion: published.version };
  }
}
