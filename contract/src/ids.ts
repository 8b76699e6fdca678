/** Identifiers that reach Redis keys and URLs: checked byte by byte (no RegExp in Lua). */
import { decimalValue, lastIndexOfCode } from "./text";

export const MAX_SALE_ID_LENGTH = 64;
export const MAX_USER_ID_LENGTH = 128;

/**
 * What isValidSaleId accepts, as a regular expression's text: rendered into the nginx
 * locations, and the OpenAPI document's pattern (a unit test holds them to it).
 */
export const SALE_ID_PATTERN = "[a-z0-9][a-z0-9-]{0," + (MAX_SALE_ID_LENGTH - 1) + "}";

/** What parseOrderId accepts, likewise: the sale id, the epoch and the order's number (whole, up to 15 digits). */
export const ORDER_ID_PATTERN = SALE_ID_PATTERN + "\\.[1-9][0-9]{0,14}\\.[1-9][0-9]{0,14}";

/** A sale id is a slug: 1–64 of [a-z0-9-], not starting with '-'. */
export function isValidSaleId(id: string): boolean {
  const n = id.length;
  if (n === 0 || n > MAX_SALE_ID_LENGTH) return false;
  for (let i = 0; i < n; i++) {
    const c = id.charCodeAt(i);
    const ok = (c >= 97 && c <= 122) || (c >= 48 && c <= 57) || (c === 45 && i > 0);
    if (!ok) return false;
  }
  return true;
}

/** A user id (JWT `sub`) is 1–128 printable ASCII bytes without spaces. */
export function isValidUserId(id: string): boolean {
  const n = id.length;
  if (n === 0 || n > MAX_USER_ID_LENGTH) return false;
  for (let i = 0; i < n; i++) {
    const c = id.charCodeAt(i);
    if (c < 33 || c > 126) return false;
  }
  return true;
}

/** True when s is a non-empty run of ASCII digits without a leading zero, at most 15 long. */
function isWholeNumberText(s: string): boolean {
  return s.charCodeAt(0) !== 48 && decimalValue(s, 15) !== undefined;
}

export interface OrderRef {
  saleId: string;
  /** The build of the sale's Redis state that took the order (issued by Postgres). */
  epoch: string;
  /** The order's number: the field of the sale's orders hash. */
  orderNo: string;
}

/**
 * An order id is `<saleId>.<epoch>.<orderNo>`. The epoch changes whenever the sale's Redis
 * state is rebuilt, so an id is never handed out twice, even when Redis forgot its counter.
 * Sale ids hold no dot. Undefined when orderId is not one.
 */
export function parseOrderId(orderId: string): OrderRef | undefined {
  const last = lastIndexOfCode(orderId, 46); // "."
  if (last <= 0) return undefined;
  const head = orderId.substring(0, last);
  const first = lastIndexOfCode(head, 46);
  if (first <= 0) return undefined;
  const saleId = head.substring(0, first);
  const epoch = head.substring(first + 1);
  const orderNo = orderId.substring(last + 1);
  if (!isValidSaleId(saleId) || !isWholeNumberText(epoch) || !isWholeNumberText(orderNo)) return undefined;
  return { saleId, epoch, orderNo };
}

/** The id of order `orderNo` taken in `epoch` (whole numbers below 1e14: printed exactly in Lua too). */
export function formatOrderId(saleId: string, epoch: number, orderNo: number): string {
  return saleId + "." + epoch + "." + orderNo;
}
