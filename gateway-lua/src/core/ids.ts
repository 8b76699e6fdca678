/** Identifiers that reach Redis keys and URLs: checked byte by byte (no RegExp in Lua). */
import { lastIndexOfCode } from "./text";

export const MAX_SALE_ID_LENGTH = 64;
export const MAX_USER_ID_LENGTH = 128;

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

/** True when s is a non-empty run of ASCII digits without a leading zero. */
function isOrderNumber(s: string): boolean {
  const n = s.length;
  if (n === 0 || n > 15 || s.charCodeAt(0) === 48) return false;
  for (let i = 0; i < n; i++) {
    const c = s.charCodeAt(i);
    if (c < 48 || c > 57) return false;
  }
  return true;
}

export interface OrderRef {
  saleId: string;
  orderNo: string;
}

/** An order id is `<saleId>.<orderNo>`; undefined when it is not one. */
export function parseOrderId(orderId: string): OrderRef | undefined {
  const dot = lastIndexOfCode(orderId, 46); // "."
  if (dot <= 0) return undefined;
  const saleId = orderId.substring(0, dot);
  const orderNo = orderId.substring(dot + 1);
  if (!isValidSaleId(saleId) || !isOrderNumber(orderNo)) return undefined;
  return { saleId, orderNo };
}
