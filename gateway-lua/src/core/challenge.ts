/**
 * Purchase challenges, stateless: the gateway keeps no record of an issued challenge. Its id
 * carries the expiry, a random nonce and a keyed hash of the answer, all signed together
 * with the sale and the user, so any gateway can check an answer without a database query.
 *
 *   challengeId = <expSec> "." <nonce> "." <answerMac> "." <tag>
 *   answerMac   = first ANSWER_MAC_LENGTH chars of HMAC("challenge-answer|" nonce "|" answer)
 *   tag         = HMAC("challenge|" sale "|" len(user) ":" user "|" exp "|" nonce "|" answerMac)
 *
 * The HMAC is the gateway's HS256 key (JwtPlatform.signHs256). The "challenge" prefixes
 * contain "|", which no JWT signing input (base64url and ".") does, so a MAC made for one can
 * never pass as the other. Single use is the caller's job: it claims the nonce (see
 * adapters/challenge_claims.ts and the purchase script).
 */
import { constantTimeEquals } from "./jwt";
import type { PublishedSale } from "./sale";

export interface ChallengeMac {
  /** base64url (unpadded) of HMAC-SHA256 with the gateway's key. */
  signHs256(this: void, data: string): string;
}

/** Digits a shopper types. One attempt per challenge: a guess wins 1 time in 100,000. */
export const ANSWER_DIGITS = 5;
/** How long a challenge may be answered, seconds. */
export const CHALLENGE_TTL_SEC = 120;
/** Random bytes in a nonce (base64url: 22 characters). */
export const NONCE_BYTES = 16;
const NONCE_LENGTH = 22;
const ANSWER_MAC_LENGTH = 16;
const TAG_LENGTH = 43;

export type ChallengeFailure = "malformed" | "expired" | "forged" | "wrong_answer";

/** A challenge id whose signature checked out for this sale and user. */
export interface OpenedChallenge {
  expSec: number;
  nonce: string;
  answerMac: string;
}

function answerMacOf(nonce: string, answer: string, mac: ChallengeMac): string {
  return mac.signHs256("challenge-answer|" + nonce + "|" + answer).substring(0, ANSWER_MAC_LENGTH);
}

function tagOf(saleId: string, userId: string, expText: string, nonce: string, answerMac: string, mac: ChallengeMac): string {
  return mac.signHs256("challenge|" + saleId + "|" + userId.length + ":" + userId + "|" + expText + "|" + nonce + "|" + answerMac);
}

/** Seconds as decimal digits; a whole number below 2^31 prints the same in Node and LuaJIT. */
function secondsText(sec: number): string {
  return "" + Math.floor(sec);
}

/** The id of a new challenge whose answer is `answer`, for this sale and user, valid until nowSec + TTL. */
export function challengeId(saleId: string, userId: string, nowSec: number, nonce: string, answer: string, mac: ChallengeMac): string {
  const expText = secondsText(nowSec + CHALLENGE_TTL_SEC);
  const answerMac = answerMacOf(nonce, answer, mac);
  return expText + "." + nonce + "." + answerMac + "." + tagOf(saleId, userId, expText, nonce, answerMac, mac);
}

function isDigits(s: string): boolean {
  if (s.length === 0 || s.length > 10) return false;
  for (let i = 0; i < s.length; i++) {
    const c = s.charCodeAt(i);
    if (c < 48 || c > 57) return false;
  }
  return true;
}

/**
 * Checks the id's form, expiry and signature for this sale and user (not the answer).
 * "forged" covers an id made for another sale or user, or altered.
 */
export function openChallenge(id: string, saleId: string, userId: string, nowSec: number, mac: ChallengeMac): OpenedChallenge | ChallengeFailure {
  const d1 = id.indexOf(".");
  if (d1 <= 0) return "malformed";
  const d2 = id.indexOf(".", d1 + 1);
  if (d2 !== d1 + 1 + NONCE_LENGTH) return "malformed";
  const d3 = id.indexOf(".", d2 + 1);
  if (d3 !== d2 + 1 + ANSWER_MAC_LENGTH || id.length !== d3 + 1 + TAG_LENGTH) return "malformed";
  const expText = id.substring(0, d1);
  if (!isDigits(expText)) return "malformed";
  const expSec = Number(expText);
  if (expSec <= nowSec) return "expired";
  const nonce = id.substring(d1 + 1, d2);
  const answerMac = id.substring(d2 + 1, d3);
  if (!constantTimeEquals(tagOf(saleId, userId, expText, nonce, answerMac, mac), id.substring(d3 + 1))) return "forged";
  return { expSec, nonce, answerMac };
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
 * ANSWER_DIGITS decimal digits from random bytes, without modulo bias (bytes of 250 and above
 * are skipped); undefined when the bytes run out first.
 */
export function digitsFromBytes(bytes: string): string | undefined {
  const digits: string[] = [];
  for (let i = 0; i < bytes.length && digits.length < ANSWER_DIGITS; i++) {
    const b = bytes.charCodeAt(i);
    if (b < 250) digits.push("" + (b % 10));
  }
  return digits.length === ANSWER_DIGITS ? digits.join("") : undefined;
}

/** Where a sale stands for issuing challenges: from startsAt − lead until endsAt. */
export type ChallengeWindow = "early" | "open" | "ended";

export function challengeWindowAt(sale: PublishedSale, nowMs: number, leadMs: number): ChallengeWindow {
  if (nowMs < sale.startsAtMs - leadMs) return "early";
  if (nowMs >= sale.endsAtMs) return "ended";
  return "open";
}
