/** Checks a purchase request's headers and body before anything is written. */

/** Largest purchase body accepted; nginx's own client_max_body_size sits above this. */
export const MAX_PURCHASE_BODY_BYTES = 1024;
const MAX_CHALLENGE_FIELD_LENGTH = 128;

export interface PurchaseRequest {
  quantity: number;
  challengeId?: string;
  answer?: string;
  /** The waiting room's pass, where the sale has one. */
  pass?: string;
}

/** `application/json`, optionally followed by parameters (`; charset=utf-8`). */
export function isJsonContentType(contentType: string | undefined): boolean {
  if (contentType === undefined) return false;
  const ct = contentType.toLowerCase();
  const base = "application/json";
  if (ct.length < base.length || ct.substring(0, base.length) !== base) return false;
  if (ct.length === base.length) return true;
  const next = ct.charCodeAt(base.length);
  return next === 59 || next === 32 || next === 9; // ';', ' ', tab
}

function isShortText(v: unknown): v is string {
  return typeof v === "string" && v.length > 0 && v.length <= MAX_CHALLENGE_FIELD_LENGTH;
}

/**
 * Checks a decoded body against the contract `{"quantity", "challengeId"?, "answer"?, "pass"?}`.
 * Returns the request, or a message for a 400 naming what is wrong.
 */
export function parsePurchaseBody(body: unknown, perUserLimit: number): PurchaseRequest | string {
  if (typeof body !== "object" || body === null) return "the body must be a JSON object";
  const fields = body as { [key: string]: unknown };
  for (const key in fields) {
    if (key !== "quantity" && key !== "challengeId" && key !== "answer" && key !== "pass") {
      return "unknown field: " + key;
    }
  }
  const quantity = fields["quantity"];
  if (quantity === undefined) return "quantity is required";
  if (typeof quantity !== "number" || Math.floor(quantity) !== quantity || quantity < 1 || quantity > perUserLimit) {
    return "quantity must be a whole number from 1 to " + perUserLimit;
  }
  const challengeId = fields["challengeId"];
  const answer = fields["answer"];
  if (challengeId !== undefined && !isShortText(challengeId)) return "challengeId must be a short string";
  if (answer !== undefined && !isShortText(answer)) return "answer must be a short string";
  const pass = fields["pass"];
  if (pass !== undefined && !isShortText(pass)) return "pass must be a short string";
  return { quantity, challengeId, answer, pass };
}
