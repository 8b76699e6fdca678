/**
 * Turns a raw entry of a sale's status change stream into the change to apply, checking every
 * field: like an order entry, one that fails is reported, acknowledged and skipped.
 */
import { isValidUserId, parseOrderId } from "@flash-sale/contract/ids";
import { STATUS_FIELDS, type StatusChange } from "@flash-sale/contract/stream";
import { entryFields, type BucketRef, type RawEntry } from "./raw-entry";

export interface StatusRow extends BucketRef {
  saleId: string;
  entryId: string;
  orderId: string;
  userId: string;
  status: StatusChange;
  /** When Redis stamped the change: its entry id's milliseconds. */
  atMs: number;
}

export type ParsedStatus = { ok: true; change: StatusRow } | { ok: false; reason: string };

const STATUSES: readonly string[] = ["paid", "expired", "failed"] satisfies StatusChange[];

export function parseStatusEntry(entry: RawEntry): ParsedStatus {
  const fields = entryFields(entry);
  if (typeof fields === "string") return { ok: false, reason: fields };

  const orderId = `${entry.saleId}.${fields.get(STATUS_FIELDS.epoch) ?? ""}.${fields.get(STATUS_FIELDS.orderNo) ?? ""}`;
  const ref = parseOrderId(orderId);
  if (ref === undefined || ref.saleId !== entry.saleId) return { ok: false, reason: `bad ${STATUS_FIELDS.epoch} or ${STATUS_FIELDS.orderNo}` };
  const userId = fields.get(STATUS_FIELDS.userId);
  if (userId === undefined || !isValidUserId(userId)) return { ok: false, reason: `bad ${STATUS_FIELDS.userId}` };
  const status = fields.get(STATUS_FIELDS.status);
  if (status === undefined || !STATUSES.includes(status)) return { ok: false, reason: `bad ${STATUS_FIELDS.status}` };
  const atMs = Number(entry.id.slice(0, entry.id.indexOf("-")));
  if (!Number.isSafeInteger(atMs) || atMs <= 0) return { ok: false, reason: "bad entry id" };
  return { ok: true, change: { saleId: entry.saleId, bucket: entry.bucket, buckets: entry.buckets, entryId: entry.id, orderId, userId, status: status as StatusChange, atMs } };
}
