/**
 * Changes of a stored sale (update, publish, pause, resume, end, delete). Each is committed to
 * Postgres first — under the sale's row lock, checked against the sale's state, with its audit
 * entry and a bumped revision — then applied to Redis after the commit (SalePublisher.apply:
 * absolute values, ordered by the revision) before the call returns. A call on a published
 * sale that changes nothing still applies it, so that when a pause returns, Redis is paused.
 *
 * When the apply fails the change stays saved: the caller hears 503 `unavailable` saying so,
 * and the keep-sales-built job applies it once Redis answers. A control plane killed between
 * the commit and the apply leaves Redis behind Postgres, never ahead of it.
 *
 * A delete is the exception, for the same reason: it drops the sale from Redis first (refused
 * while Redis holds orders of it), then commits, so that a killed delete leaves a sale that the
 * job publishes again, never a sale selling in Redis without its row in Postgres.
 */
import type { Logger } from "@flash-sale/node-common";
import { crashIfAt, type Fault } from "../faults";
import { ApiError } from "../http/api-error";
import { fieldErrors } from "../http/field-errors";
import { actionRefusal, endNow, hasStarted, publishedBucketRefusals, saleState, startedSaleRefusals, type SaleAction, type SaleState } from "./lifecycle";
import { pickValues, SETTING_NAMES } from "./fields";
import { mergePatch } from "./merge-patch";
import type { ApplyResult, SalePublisher } from "./publisher";
import type { LockedSale, Sale, SaleRepository } from "./repository";
import { conflictingChange, invalidSale, refusedInState } from "./sale-errors";
import type { saleInputSchema } from "./schema";

export interface SaleChangesDeps {
  repository: SaleRepository;
  publisher: SalePublisher;
  schema: ReturnType<typeof saleInputSchema>;
  logger: Logger;
  /** Epoch ms; the clock the sale's state is judged by. */
  now?: () => number;
  /** Test-only fault injection (faults.ts). */
  fault?: Fault;
}

/** A sale with the state it is in. */
export type SaleView = Sale & { state: SaleState };

/** A published sale, as applied to Redis. */
export interface PublishedView {
  sale: SaleView;
  version: number;
  built: ApplyResult["built"];
}

type ChangeAction = Exclude<SaleAction, "delete">;

/** How the 503 after a saved change names it. */
const SAVED: Record<ChangeAction, string> = {
  update: "The change is saved",
  publish: "The sale is saved and published",
  pause: "The pause is saved",
  resume: "The resume is saved",
  end: "The end is saved",
};

/** The settings of a stored sale, as the schema takes them (what PATCH is applied to). */
function settingsOf(sale: Sale): { [field: string]: unknown } {
  return { id: sale.id, ...pickValues(sale, SETTING_NAMES) };
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
    const { sale } = await this.change(id, "update", async (locked, state) => {
      const parsed = this.deps.schema.safeParse(mergePatch(settingsOf(locked.sale), patch));
      if (!parsed.success) throw invalidSale(fieldErrors(parsed.error));
      const settings = parsed.data;
      if (hasStarted(state)) {
        const refusals = startedSaleRefusals(locked.sale, settings);
        if (refusals.length > 0) throw conflictingChange(refusals);
      }
      if (locked.sale.publishedAt !== null) {
        const refusals = publishedBucketRefusals(locked.sale, settings);
        if (refusals.length > 0) throw conflictingChange(refusals);
      }
      if (canonical(settingsOf(locked.sale)) === canonical({ ...settings, id })) return undefined;
      if (settings.stock < locked.sale.stock && locked.sale.publishedAt !== null) await this.refuseBelowTaken(locked, settings.stock);
      return this.deps.repository.update(locked, settings, actor);
    });
    return sale;
  }

  /** Publishes the sale as stored: a draft's first publish, or a repair (applied again in full). */
  async publish(id: string, actor: string): Promise<PublishedView> {
    const { sale, applied } = await this.change(id, "publish", (locked) => this.deps.repository.recordPublish(locked, actor));
    if (applied === undefined) throw new Error(`sale ${id} published but not applied`); // a published sale is always applied
    return { sale, version: applied.version, built: applied.built };
  }

  /** Pausing a paused sale (or resuming a running one) changes nothing. */
  async setPaused(id: string, paused: boolean, actor: string): Promise<SaleView> {
    const { sale } = await this.change(id, paused ? "pause" : "resume", async (locked) =>
      locked.sale.paused === paused ? undefined : this.deps.repository.setPaused(locked, paused, actor),
    );
    return sale;
  }

  /** Ends a started sale now; ending an ended sale changes nothing. */
  async end(id: string, actor: string): Promise<SaleView> {
    const { sale } = await this.change(id, "end", async (locked, state) =>
      state === "ended" ? undefined : this.deps.repository.setEndsAt(locked, endNow(locked.sale, this.now()), actor),
    );
    return sale;
  }

  /**
   * Deletes a sale that has not started and holds no orders in Postgres or Redis. Redis first
   * (see the header), then the commit.
   */
  async delete(id: string, actor: string): Promise<void> {
    const { repository, publisher, logger } = this.deps;
    const deleted = await repository.withLockedSale(id, async (locked) => {
      const state = this.checkedState(locked, "delete");
      const persisted = await repository.persistedOrders(id, locked.db);
      if (persisted.orders > 0) {
        throw refusedInState(`Postgres holds ${persisted.orders} orders of the sale; it cannot be deleted.`, state);
      }
      const withdrawn = await publisher.withdrawKeys(id, locked.sale.stockBuckets).catch((err: unknown) => {
        logger.error({ err, saleId: id }, "sale not withdrawn from Redis; not deleted");
        throw new ApiError("unavailable", "Redis is unreachable; the sale was not deleted. Retry later.");
      });
      if (withdrawn.kind === "refused") {
        const { orders, orderNumbers, unacknowledged } = withdrawn;
        throw refusedInState(
          `Redis holds orders of the sale (${orders} orders, ${orderNumbers} order numbers handed out, ${unacknowledged} not yet in Postgres); it cannot be deleted.`,
          state,
        );
      }
      await publisher.withdrawConfig(id).catch((err: unknown) => {
        logger.error({ err, saleId: id }, "sale config not withdrawn from Redis; not deleted");
        throw new ApiError("unavailable", "Redis is unreachable; the sale was not deleted. Retry later.");
      });
      await repository.delete(locked, actor);
      return true;
    });
    if (deleted === undefined) throw new ApiError("sale_not_found");
  }

  /**
   * Commits `decide`'s change of the locked sale (undefined: nothing to change), then applies
   * the sale to Redis when it is published.
   */
  private async change(
    id: string,
    action: ChangeAction,
    decide: (locked: LockedSale, state: SaleState) => Promise<Sale | undefined>,
  ): Promise<{ sale: SaleView; applied?: ApplyResult }> {
    const committed = await this.deps.repository.withLockedSale(id, async (locked) => {
      const changed = await decide(locked, this.checkedState(locked, action));
      return changed ?? locked.sale;
    });
    if (committed === undefined) throw new ApiError("sale_not_found");
    crashIfAt(this.deps.fault, "after-commit", action);
    if (committed.publishedAt === null) return { sale: this.view(committed) }; // a draft: nothing in Redis
    const applied = await this.apply(committed, action);
    return { sale: this.view({ ...committed, publishedVersion: applied.version }), applied };
  }

  private checkedState(locked: LockedSale, action: SaleAction): SaleState {
    const state = saleState(locked.sale, this.now());
    const refusal = actionRefusal(action, state);
    if (refusal !== undefined) throw refusedInState(refusal, state);
    return state;
  }

  /** Applies the sale as now committed (under its lock again: a rebuild needs it). */
  private async apply(committed: Sale, action: ChangeAction): Promise<ApplyResult> {
    const { repository, publisher, logger, fault } = this.deps;
    let applied: ApplyResult | undefined;
    try {
      applied = await repository.withLockedSale(committed.id, (locked) =>
        publisher.apply(locked, () => crashIfAt(fault, "mid-apply", action)),
      );
    } catch (err) {
      logger.error({ err, saleId: committed.id, revision: committed.revision, action }, "sale change saved but not applied to Redis");
      throw new ApiError(
        "unavailable",
        `${SAVED[action]} (revision ${committed.revision}) but not yet applied: Redis did not answer. ` +
          "It reaches the gateways when Redis answers (the control plane applies saved changes every second); repeating the call is harmless.",
      );
    }
    if (applied === undefined) throw new ApiError("sale_not_found"); // deleted since the commit
    const { keys } = applied;
    if (keys.kind === "short") {
      // Purchases took units between the check under the lock and the apply (see refuseBelowTaken).
      logger.error({ saleId: committed.id, total: committed.stock, unitsTaken: keys.unitsTaken }, "sale total below the units taken: units left set to 0");
    }
    logger.info({ saleId: committed.id, action, revision: committed.revision, version: applied.version, built: applied.built, keys }, "sale applied to Redis");
    return applied;
  }

  /**
   * Refuses a total below the units taken, read under the row lock from Redis and Postgres
   * (the larger). Purchases may still take units before the apply: the apply then leaves 0
   * units left and says so.
   */
  private async refuseBelowTaken(locked: LockedSale, total: number): Promise<void> {
    const inRedis = await this.deps.publisher.unitsTaken(locked.sale.id, locked.sale.stockBuckets).catch((err: unknown) => {
      this.deps.logger.error({ err, saleId: locked.sale.id }, "units taken not read from Redis; stock not lowered");
      throw new ApiError("unavailable", "Redis is unreachable; the stock was not changed. Retry later.");
    });
    const taken = Math.max(inRedis, await this.deps.repository.unitsTaken(locked.db, locked.sale));
    if (total < taken) {
      throw conflictingChange([{ path: "stock", message: `must be at least ${taken}: that many units are sold or reserved` }]);
    }
  }
}
