/**
 * The replies of redis-scripts/order/pay-order.lua (its header lists them), decoded once for the
 * gateway (POST /api/orders/{id}/pay) and the control plane (the payment webhook).
 */
import { namesByCode } from "./scripts/script";

export type PayOutcome = "paid" | "already_paid" | "expired" | "not_found" | "failed" | "held";

/** The reply codes (the script's first element) by outcome; `held` is -1 in every script. */
export const PAY_CODES: Readonly<Record<PayOutcome, number>> = { paid: 0, already_paid: 1, expired: 2, not_found: 3, failed: 4, held: -1 };

const PAY_OUTCOMES = namesByCode(PAY_CODES);

/** The outcome of a reply, undefined when the reply is none of the script's. */
export function payOutcome(reply: unknown): PayOutcome | undefined {
  if (typeof reply !== "object" || reply === null) return undefined;
  const code = (reply as unknown[])[0];
  return typeof code === "number" ? PAY_OUTCOMES[code] : undefined;
}

/** A reply decoded: a paid order carries its units and, when recorded with them, its price (minor units, as text) and currency. */
export type PayReply =
  | { outcome: "paid" | "already_paid"; quantity: number; price?: string; currency?: string }
  | { outcome: Exclude<PayOutcome, "paid" | "already_paid"> };

/** The whole reply, undefined when it is none of the script's. */
export function decodePayReply(reply: unknown): PayReply | undefined {
  const outcome = payOutcome(reply);
  if (outcome === undefined) return undefined;
  if (outcome !== "paid" && outcome !== "already_paid") return { outcome };
  const r = reply as unknown[];
  const quantity = r[1];
  if (typeof quantity !== "number") return undefined;
  const price = r[2];
  const currency = r[3];
  if (typeof price !== "string" || typeof currency !== "string") return { outcome, quantity };
  return { outcome, quantity, price, currency };
}
