/**
 * Changes of a stored sale (update, publish, pause, resume, end, delete). Each is committed to
 * Postgres first — under the sale's row lock, checked against the sale's state, with its audit
 * entry and a bumped revision — then applied to Redis after the commit, out of the lock
 * (SalePublisher.applyCommitted: absolute values, ordered by the revision, so a Redis that
 * stalls holds up neither other changes of the sale nor the order worker's inserts) before the
 * call returns. A call on a published sale that changes nothing still applies it, so that when
 * a pause returns, Redis is paused.
 *
 * When the apply fails the change stays saved: the caller hears 503 `unavailable` saying so,
 * and the keep-sales-built job applies it once Redis answers. A control plane killed between
 * the commit and the apply leaves Redis behind Postgres, never ahead of it.
 *
 * Two changes are the exception, for the same reason. Lowering the stock of a published sale
 * takes the units out of Redis first (SalePublisher.lowerStock: only if the new total still
 * covers the units taken, else 409 `stock_below_taken` with how many are left and taken), then
 * commits, so that Redis never sells on a total Postgres no longer holds (its one script call is
 * made under the row lock: the intent names the revision the commit takes); a failure or a kill
 * in between leaves an intent in Redis that the next apply under the row lock undoes. A delete drops
 * the sale from Redis first (refused while Redis holds orders of it), then commits, so that a
 * killed delete leaves a sale that the job publishes again, never a sale selling in Redis without
 * its row in Postgres.
 */
import type { Logger } from "@flash-sale/node-common";
import { crashIfAt, type Fault } from "../faults";
import { ApiError } from "../api/api-error";
import { fieldErrors } from "../api/field-errors";
import { actionRefusal, endNow, hasStarted, publishedBucketRefusals, saleState, startedSaleRefusals, type SaleAction, type SaleState } from "./lifecycle";
import { pickValues, SETTING_NAMES } from "./fields";
import { mergePatch } from "./merge-patch";
import type { ApplyResult, SalePublisher } from "../projection/publisher";
import type { LockedSale, Sale, SaleRepository } from "../store/sale-repository";
import { conflictingChange, invalidSale, refusedInState, stockBelowTaken } from "./sale-errors";
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
  /** `mayChangeStarted`: the caller's role lets it change a sale that has started (admins). */
  async update(id: string, patch: unknown, actor: string, mayChangeStarted = true): Promise<SaleView> {
    if (!isObject(patch)) throw invalidSale([{ path: "", message: "must be a JSON object" }]);
    if (patch["id"] !== undefined && patch["id"] !== id) throw invalidSale([{ path: "id", message: "cannot be changed" }]);
    let lowered = false;
    const { sale } = await this.change(id, "update", async (locked, state) => {
      const parsed = this.deps.schema.safeParse(mergePatch(settingsOf(locked.sale), patch));
      if (!parsed.success) throw invalidSale(fieldErrors(parsed.error));
      const settings = parsed.data;
      if (hasStarted(state)) {
        if (!mayChangeStarted) throw new ApiError("forbidden", "Only an admin changes a sale that has started.");
        const refusals = startedSaleRefusals(locked.sale, settings);
        if (refusals.length > 0) throw conflictingChange(refusals);
      }
      if (locked.sale.publishedAt !== null) {
        const refusals = publishedBucketRefusals(locked.sale, settings);
        if (refusals.length > 0) throw conflictingChange(refusals);
      }
      if (canonical(settingsOf(locked.sale)) === canonical({ ...settings, id })) return undefined;
      if (settings.stock < locked.sale.stock && locked.sale.publishedAt !== null) {
        await this.lowerStock(locked, settings.stock);
        lowered = true;
        crashIfAt(this.deps.fault, "after-take", "update");
      }
      return this.deps.repository.update(locked, settings, actor);
    }).catch(async (err: unknown) => {
      if (lowered) await this.settleLowering(id);
      throw err;
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

  /** Applies the sale as now committed, out of its lock; under it when it must be built (a build needs it). */
  private async apply(committed: Sale, action: ChangeAction): Promise<ApplyResult> {
    const { repository, publisher, logger, fault } = this.deps;
    const midApply = () => crashIfAt(fault, "mid-apply", action);
    let applied: ApplyResult | undefined;
    try {
      applied = (await publisher.applyCommitted(committed, midApply)) ??
        (await repository.withLockedSale(committed.id, (locked) => publisher.apply(locked, midApply)));
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
      // Redis had taken more than the committed total (a lowering takes its units out first, so
      // this is Redis ahead of Postgres for another reason): say so loudly.
      logger.error({ saleId: committed.id, total: committed.stock, unitsTaken: keys.unitsTaken }, "sale total below the units taken: units left set to 0");
    }
    logger.info({ saleId: committed.id, action, revision: committed.revision, version: applied.version, built: applied.built, keys }, "sale applied to Redis");
    return applied;
  }

  /**
   * After a lowering whose commit failed (or whose answer was lost): the apply under the row lock
   * undoes it if it never committed, or applies it if it did. Failing that, keep-sales-built does.
   */
  private async settleLowering(id: string): Promise<void> {
    const { repository, publisher, logger } = this.deps;
    try {
      const applied = await repository.withLockedSale(id, (locked) => publisher.apply(locked));
      logger.warn({ saleId: id, keys: applied?.keys }, "stock lowering not committed: settled in Redis");
    } catch (err) {
      logger.error({ err, saleId: id }, "stock lowering not committed and not settled in Redis; keep-sales-built settles it");
    }
  }

  /**
   * Takes the units of a lower total out of Redis before the commit (under the row lock). Refused
   * when the total is below the units taken, in Postgres (its orders by status) or in Redis.
   * A sale held in Redis sells nothing until it is rebuilt from the committed total.
   */
  private async lowerStock(locked: LockedSale, total: number): Promise<void> {
    const { repository, publisher, logger } = this.deps;
    const { id } = locked.sale;
    const takenInPostgres = await repository.unitsTaken(locked.db, locked.sale);
    if (total < takenInPostgres) throw stockBelowTaken(total, { unitsTaken: takenInPostgres, unitsLeft: locked.sale.stock - takenInPostgres });
    const lowered = await publisher.lowerStock(locked, total).catch((err: unknown) => {
      logger.error({ err, saleId: id }, "units not taken out of Redis; stock not lowered");
      throw new ApiError("unavailable", "Redis is unreachable; the stock was not changed. Retry later.");
    });
    if (lowered.kind === "refused") throw stockBelowTaken(total, lowered);
    logger.info({ saleId: id, total, ...lowered }, "units taken out of Redis before the stock is lowered");
  }
}
