/**
 * Where a sale stands (draft → scheduled → active → ended, and paused), derived from its
 * record and the clock rather than stored, so that it can never disagree with the times the
 * gateways enforce; and what each state allows.
 */
import type { FieldError } from "../api/field-errors";
import { SETTINGS, type SettingName } from "./fields";
import type { Sale } from "../store/sale-repository";
import type { SaleSettings } from "./schema";

export type SaleState = "draft" | "scheduled" | "active" | "paused" | "ended";

/** A draft was never published, so nothing of it can have been sold, whatever its times. */
export function saleState(sale: Sale, nowMs: number): SaleState {
  if (sale.publishedAt === null) return "draft";
  if (nowMs >= Date.parse(sale.endsAt)) return "ended";
  if (nowMs < Date.parse(sale.startsAt)) return "scheduled";
  return sale.paused ? "paused" : "active";
}

/** Shoppers may have bought units of it. */
export function hasStarted(state: SaleState): boolean {
  return state === "active" || state === "paused" || state === "ended";
}

export type SaleAction = "update" | "publish" | "pause" | "resume" | "end" | "delete";

/** Why the sale cannot take `action` in its state; undefined when it can (a publish always can: it repairs). */
export function actionRefusal(action: SaleAction, state: SaleState): string | undefined {
  if (action === "publish") return undefined;
  if (action === "delete") {
    return hasStarted(state) ? "The sale has started and may have sold units; end it instead of deleting it." : undefined;
  }
  if (state === "ended") return action === "end" ? undefined : "The sale has ended; it can no longer be changed.";
  if (action === "end" && !hasStarted(state)) return "The sale has not started; delete it instead of ending it.";
  return undefined;
}

/** The settings a started sale keeps (fields.ts), each with why (the admin UI shows them read-only). */
export function fixedOnceStarted(before: Sale): (FieldError & { path: SettingName })[] {
  return SETTINGS.flatMap(({ name, fixedOnceStarted }) =>
    fixedOnceStarted === undefined ? [] : [{ path: name, message: fixedOnceStarted(before[name]) }],
  );
}

/**
 * Changes of settings that would break a started sale. Lowering the stock below what is
 * sold or reserved is refused by SaleChanges, which reads the units taken under the row lock.
 */
export function startedSaleRefusals(before: Sale, after: SaleSettings): FieldError[] {
  return fixedOnceStarted(before).filter(({ path }) => after[path] !== before[path]);
}

/**
 * Stock buckets are laid out in Redis by the first publish: their number stays, and so does the
 * stock of a sale split in several (its units are spread over the buckets and moved between them;
 * a new total would have to be split across slots that no script reaches at once).
 */
export function publishedBucketRefusals(before: Sale, after: SaleSettings): FieldError[] {
  const refusals: FieldError[] = [];
  if (after.stockBuckets !== before.stockBuckets) refusals.push({ path: "stockBuckets", message: `cannot change once the sale is published (it is ${before.stockBuckets})` });
  if (before.stockBuckets > 1 && after.stock !== before.stock) refusals.push({ path: "stock", message: `cannot change once a sale in ${before.stockBuckets} stock buckets is published` });
  return refusals;
}

/** The instant an ended-now sale ends: now, but always after its start (ends_at > starts_at). */
export function endNow(sale: Sale, nowMs: number): Date {
  return new Date(Math.max(nowMs, Date.parse(sale.startsAt) + 1));
}
