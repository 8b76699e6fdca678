/**
 * Turns a raw stream entry into an order row, checking every field: an entry that fails is
 * reported (and then acknowledged and skipped by the worker) rather than allowed to block the
 * stream or to fail a whole Postgres batch.
 */
import { isValidUserId, parseOrderId } from "@flash-sale/contract/ids";
import { ORDER_FIELDS } from "@flash-sale/contract/stream";
import { entryFields, wholeNumber, type BucketRef, type RawEntry } from "./raw-entry";

export interface OrderRow extends BucketRef {
  entryId: string;
  orderId: string;
  saleId: string;
  epoch: number;
  orderNo: number;
  userId: string;
  userUnits: number;
  quantity: number;
  requestId: string | null;
  acceptedAtMs: number;
  /** Price per unit (minor units) and currency the order was accepted at; null in an entry written before orders carried them: the insert takes its sale's. */
  price: number | null;
  currency: string | null;
}

export type ParsedEntry = { ok: true; row: OrderRow } | { ok: false; reason: string };

const MAX_INT4 = 2147483647;
const MAX_REQUEST_ID_LENGTH = 128;
/** Year 5138: keeps `accepted_at` well inside Postgres' timestamp range. */
const MAX_EPOCH_MS = 99_999_999_999_999;
/** A sale's currency as the control plane takes it (sales/fields.ts): an ISO 4217 code. */
const CURRENCY = /^[A-Z]{3}$/;

export function parseOrderEntry(entry: RawEntry): ParsedEntry {
  const fields = entryFields(entry);
  if (typeof fields === "string") return { ok: false, reason: fields };

  const orderId = fields.get(ORDER_FIELDS.orderId);
  if (orderId === undefined) return { ok: false, reason: `missing ${ORDER_FIELDS.orderId}` };
  const ref = parseOrderId(orderId);
  if (ref === undefined) return { ok: false, reason: `bad ${ORDER_FIELDS.orderId}` };
  const saleId = fields.get(ORDER_FIELDS.saleId);
  if (saleId === undefined) return { ok: false, reason: `missing ${ORDER_FIELDS.saleId}` };
  if (ref.saleId !== entry.saleId || saleId !== entry.saleId) return { ok: false, reason: "order of another sale" };
  const userId = fields.get(ORDER_FIELDS.userId);
  if (userId === undefined || !isValidUserId(userId)) return { ok: false, reason: `bad ${ORDER_FIELDS.userId}` };
  const quantity = wholeNumber(fields.get(ORDER_FIELDS.quantity), 1, MAX_INT4);
  if (quantity === undefined) return { ok: false, reason: `bad ${ORDER_FIELDS.quantity}` };
  const userUnits = wholeNumber(fields.get(ORDER_FIELDS.userUnits), quantity, MAX_INT4);
  if (userUnits === undefined) return { ok: false, reason: `bad ${ORDER_FIELDS.userUnits}` };
  const acceptedAtMs = wholeNumber(fields.get(ORDER_FIELDS.acceptedAtMs), 0, MAX_EPOCH_MS);
  if (acceptedAtMs === undefined) return { ok: false, reason: `bad ${ORDER_FIELDS.acceptedAtMs}` };

  const priceText = fields.get(ORDER_FIELDS.price);
  const currency = fields.get(ORDER_FIELDS.currency) ?? null;
  if ((priceText === undefined) !== (currency === null)) return { ok: false, reason: `${ORDER_FIELDS.price} without ${ORDER_FIELDS.currency} or the reverse` };
  const price = priceText === undefined ? null : wholeNumber(priceText, 0, Number.MAX_SAFE_INTEGER);
  if (price === undefined) return { ok: false, reason: `bad ${ORDER_FIELDS.price}` };
  if (currency !== null && !CURRENCY.test(currency)) return { ok: false, reason: `bad ${ORDER_FIELDS.currency}` };

  // The request id only helps tracing: an odd one is dropped, the order is kept.
  const rid = fields.get(ORDER_FIELDS.requestId);
  const requestId =
    rid !== undefined && rid.length > 0 && rid.length <= MAX_REQUEST_ID_LENGTH && !/[\x00-\x1f]/.test(rid) ? rid : null;

  return {
    ok: true,
    row: {
      entryId: entry.id,
      orderId,
      saleId: entry.saleId,
      bucket: entry.bucket,
      buckets: entry.buckets,
      epoch: Number(ref.epoch),
      orderNo: Number(ref.orderNo),
      userId,
      userUnits,
      quantity,
      requestId,
      acceptedAtMs,
      price,
      currency,
    },
  };
}
