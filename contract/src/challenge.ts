/**
 * Purchase challenges, stateless: the gateway keeps no record of an issued challenge. Its id
 * carries the kind and expiry, a random nonce and a keyed hash of the answer, all signed
 * together with the sale and the user, so any gateway can check an answer without a database
 * query.
 *
 *   challengeId = <head> "." <nonce> "." <answerMac> "." <tag>
 *   head        = <expSec> (a picture) | "t" <expSec> (a text question, see textQuestion)
 *   answerMac   = first ANSWER_MAC_LENGTH chars of HMAC("challenge-answer|" nonce "|" answer)
 *   tag         = HMAC("challenge|" sale "|" len(user) ":" user "|" head "|" nonce "|" answerMac)
 *
 * The HMAC is the gateway's HS256 key (JwtPlatform.signHs256). The "challenge" prefixes
 * contain "|", which no JWT signing input (base64url and ".") does, so a MAC made for one can
 * never pass as the other. Single use is the caller's job: it claims the nonce (see
 * adapters/challenge_claims.ts and the purchase script).
 */
import { constantTimeEquals } from "./jwt";
import type { PublishedSale } from "./sale";
import { decimalValue } from "./text";

export interface ChallengeMac {
  /** base64url (unpadded) of HMAC-SHA256 with the gateway's key. */
  signHs256(this: void, data: string): string;
}

/**
 * The symbols of an answer: digits that cannot be taken for one another or for a letter (no
 * 0/O, 1/7/I, 5/S). Six of them, one attempt per challenge: a guess wins 1 time in 7^6 = 117,649.
 */
export const ALPHABET = "2346789";
export const ANSWER_LENGTH = 6;
/** How long a challenge may be answered, seconds. */
export const CHALLENGE_TTL_SEC = 120;
/**
 * A text question cannot be answered sooner than this after it was issued, seconds: a script
 * that reads it gains no speed over a person who solves the picture (hearing the question read
 * out takes longer than this).
 */
export const TEXT_ANSWER_DELAY_SEC = 3;
/** Random bytes in a nonce (base64url: 22 characters). */
export const NONCE_BYTES = 16;
const NONCE_LENGTH = 22;
const ANSWER_MAC_LENGTH = 16;
const TAG_LENGTH = 43;
const TEXT_MARK = "t";

export type ChallengeKind = "picture" | "text";

export type ChallengeFailure = "malformed" | "expired" | "forged" | "too_early";

/** A challenge id whose signature checked out for this sale and user. */
export interface OpenedChallenge {
  kind: ChallengeKind;
  expSec: number;
  nonce: string;
  answerMac: string;
}

function answerMacOf(nonce: string, answer: string, mac: ChallengeMac): string {
  return mac.signHs256("challenge-answer|" + nonce + "|" + answer).substring(0, ANSWER_MAC_LENGTH);
}

function tagOf(saleId: string, userId: string, head: string, nonce: string, answerMac: string, mac: ChallengeMac): string {
  return mac.signHs256("challenge|" + saleId + "|" + userId.length + ":" + userId + "|" + head + "|" + nonce + "|" + answerMac);
}

/** Seconds as decimal digits; a whole number below 2^31 prints the same in Node and LuaJIT. */
function secondsText(sec: number): string {
  return "" + Math.floor(sec);
}

/** The id of a new challenge of this kind whose answer is `answer`, for this sale and user, valid until nowSec + TTL. */
export function challengeId(saleId: string, userId: string, nowSec: number, nonce: string, answer: string, kind: ChallengeKind, mac: ChallengeMac): string {
  const head = (kind === "text" ? TEXT_MARK : "") + secondsText(nowSec + CHALLENGE_TTL_SEC);
  const answerMac = answerMacOf(nonce, answer, mac);
  return head + "." + nonce + "." + answerMac + "." + tagOf(saleId, userId, head, nonce, answerMac, mac);
}

function isDigits(s: string): boolean {
  return decimalValue(s, 10) !== undefined;
}

/**
 * Checks the id's form, expiry and signature for this sale and user (not the answer), and that
 * a text question is not answered too soon. "forged" covers an id made for another sale or
 * user, or altered.
 */
export function openChallenge(id: string, saleId: string, userId: string, nowSec: number, mac: ChallengeMac): OpenedChallenge | ChallengeFailure {
  const d1 = id.indexOf(".");
  if (d1 <= 0) return "malformed";
  const d2 = id.indexOf(".", d1 + 1);
  if (d2 !== d1 + 1 + NONCE_LENGTH) return "malformed";
  const d3 = id.indexOf(".", d2 + 1);
  if (d3 !== d2 + 1 + ANSWER_MAC_LENGTH || id.length !== d3 + 1 + TAG_LENGTH) return "malformed";
  const head = id.substring(0, d1);
  const kind: ChallengeKind = head.substring(0, 1) === TEXT_MARK ? "text" : "picture";
  const expText = kind === "text" ? head.substring(1) : head;
  if (!isDigits(expText)) return "malformed";
  const expSec = Number(expText);
  if (expSec <= nowSec) return "expired";
  const nonce = id.substring(d1 + 1, d2);
  const answerMac = id.substring(d2 + 1, d3);
  if (!constantTimeEquals(tagOf(saleId, userId, head, nonce, answerMac, mac), id.substring(d3 + 1))) return "forged";
  if (kind === "text" && nowSec < expSec - CHALLENGE_TTL_SEC + TEXT_ANSWER_DELAY_SEC) return "too_early";
  return { kind, expSec, nonce, answerMac };
}

/** The answer as typed, without spaces (shoppers type "12 345" too). */
export function normalizeAnswer(answer: string): string {
  const kept: string[] = [];
  for (let i = 0; i < answer.length; i++) {
    if (answer.charCodeAt(i) !== 32) kept.push(answer.substring(i, i + 1));
  }
  return kept.join("");
}

export function isRightAnswer(opened: OpenedChallenge, answer: string, mac: ChallengeMac): boolean {
  return constantTimeEquals(answerMacOf(opened.nonce, normalizeAnswer(answer), mac), opened.answerMac);
}

/**
 * `count` symbols of ALPHABET from random bytes, without modulo bias (bytes of 252 = 36 × 7
 * and above are skipped), and where the bytes used stopped; undefined when they run out first.
 */
function symbolsFrom(bytes: string, start: number, count: number): { symbols: string; next: number } | undefined {
  const out: string[] = [];
  let i = start;
  for (; i < bytes.length && out.length < count; i++) {
    const b = bytes.charCodeAt(i);
    if (b < 252) out.push(ALPHABET.substring(b % 7, b % 7 + 1));
  }
  return out.length === count ? { symbols: out.join(""), next: i } : undefined;
}

/** An answer (ANSWER_LENGTH symbols) from random bytes; undefined when too few are usable. */
export function answerFromBytes(bytes: string): string | undefined {
  return symbolsFrom(bytes, 0, ANSWER_LENGTH)?.symbols;
}

/** How a text question hides the answer in its code: the symbols added before and after it. */
const TEXT_FORMS: { before: number; after: number; ask: string }[] = [
  { before: 1, after: 1, ask: "without its first and last digits" },
  { before: 2, after: 0, ask: "without its first two digits" },
  { before: 0, after: 2, ask: "without its last two digits" },
];

/**
 * The text alternative to the picture, for shoppers who cannot use it: a code of
 * ANSWER_LENGTH + 2 digits, written out one by one, that holds the answer, and which part of it
 * to type. The form and the added digits come from random bytes; undefined when too few are usable.
 */
export function textQuestion(answer: string, bytes: string): string | undefined {
  if (bytes.length === 0) return undefined;
  const form = TEXT_FORMS[bytes.charCodeAt(0) % TEXT_FORMS.length] as (typeof TEXT_FORMS)[number];
  const extra = symbolsFrom(bytes, 1, 2);
  if (extra === undefined) return undefined;
  const code = extra.symbols.substring(0, form.before) + answer + extra.symbols.substring(form.before, form.before + form.after);
  const spoken: string[] = [];
  for (let i = 0; i < code.length; i++) spoken.push(code.substring(i, i + 1));
  return "The code is " + spoken.join(", ") + ". Type the code " + form.ask + ".";
}

/** Where a sale stands for issuing challenges: from startsAt − lead until endsAt. */
export type ChallengeWindow = "early" | "open" | "ended";

export function challengeWindowAt(sale: PublishedSale, nowMs: number, leadMs: number): ChallengeWindow {
  if (nowMs < sale.startsAtMs - leadMs) return "early";
  if (nowMs >= sale.endsAtMs) return "ended";
  return "open";
}
