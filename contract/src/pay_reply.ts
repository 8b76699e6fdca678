/**
 * The replies of redis-scripts/pay-order.lua (its header lists them), decoded once for the
 * gateway (POST /api/orders/{id}/pay) and the control plane (the payment webhook).
 */
export type PayOutcome = "paid" | "already_paid" | "expired" | "not_found" | "failed" | "held";

/** By reply code: the script's first element. */
const PAY_OUTCOMES: PayOutcome[] = ["paid", "already_paid", "expired", "not_found", "failed", "held"];

/** The outcome of a reply, undefined when the reply is none of the script's. */
export function payOutcome(reply: unknown): PayOutcome | undefined {
  if (typeof reply !== "object" || reply === null) return undefined;
  const code = (reply as unknown[])[0];
  return typeof code === "number" ? PAY_OUTCOMES[code] : undefined;
}
