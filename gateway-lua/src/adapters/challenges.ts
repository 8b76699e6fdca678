/**
 * Issuing and redeeming purchase challenges in nginx (the scheme is in core/challenge.ts):
 * random answers and nonces from OpenSSL, the SVG from core/challenge_image.ts or the text
 * question, the HMAC of the gateway's key.
 */
import { encode_base64url } from "ngx.base64";
import * as random from "resty.random";
import {
  CHALLENGE_TTL_SEC,
  NONCE_BYTES,
  TEXT_ANSWER_DELAY_SEC,
  answerFromBytes,
  challengeId,
  isRightAnswer,
  openChallenge,
  textQuestion,
  type ChallengeKind,
  type ChallengeMac,
} from "@flash-sale/contract/challenge";
import { challengeSvgFromBytes } from "@flash-sale/contract/challenge_image";
import { usedChallengeKey } from "@flash-sale/contract/keys";
import { bucketOfUser } from "@flash-sale/contract/buckets";
import type { PurchaseRequest } from "@flash-sale/contract/purchase_request";
import { createJwtPlatform } from "./jwt_platform";
import { claimChallenge } from "./challenge_claims";
import type { UsedChallengeMark } from "./purchase_script";

/** Random bytes behind one picture's noise and distortion, or a text question's form (reused in turn if it needs more). */
const DRAWING_BYTES = 512;
/** Bytes drawn for the answer: enough that skipping bytes ≥ 252 never leaves too few. */
const ANSWER_BYTES = 24;

let mac: ChallengeMac | undefined;

/** Prepares the HMAC of the gateway's key; called once at init. */
export function initChallenges(secret: string): void {
  mac = createJwtPlatform(secret);
}

export interface IssuedChallenge {
  challengeId: string;
  /** A picture's SVG document. */
  svg?: string;
  /** A text question. */
  question?: string;
  expiresAtSec: number;
  /** A text question: not answered before this. */
  answerableAtSec?: number;
}

/** A new challenge of this kind for this sale and user; undefined when the random source fails. */
export function issueChallenge(saleId: string, userId: string, nowSec: number, kind: ChallengeKind): IssuedChallenge | undefined {
  const answerBytes = random.bytes(ANSWER_BYTES, true);
  const nonceBytes = random.bytes(NONCE_BYTES, true);
  const drawingBytes = random.bytes(DRAWING_BYTES);
  if (answerBytes === undefined || nonceBytes === undefined || drawingBytes === undefined) return undefined;
  const answer = answerFromBytes(answerBytes);
  if (answer === undefined) return undefined;
  const nowWhole = math.floor(nowSec);
  const id = challengeId(saleId, userId, nowWhole, encode_base64url(nonceBytes), answer, kind, mac as ChallengeMac);
  const expiresAtSec = nowWhole + CHALLENGE_TTL_SEC;
  if (kind === "picture") return { challengeId: id, svg: challengeSvgFromBytes(answer, drawingBytes), expiresAtSec };
  const question = textQuestion(answer, drawingBytes);
  if (question === undefined) return undefined;
  return { challengeId: id, question, expiresAtSec, answerableAtSec: nowWhole + TEXT_ANSWER_DELAY_SEC };
}

/**
 * Checks the answer of a purchase and spends the challenge. Returns what the purchase script
 * must mark, or a message for 403 challenge_failed.
 */
export function redeemChallenge(saleId: string, userId: string, request: PurchaseRequest, nowMs: number, buckets: number): UsedChallengeMark | string {
  if (request.challengeId === undefined || request.answer === undefined) {
    return "This sale asks for a challenge: get one with POST /api/sales/" + saleId + "/challenge and send challengeId and answer.";
  }
  const nowSec = nowMs / 1000;
  const opened = openChallenge(request.challengeId, saleId, userId, nowSec, mac as ChallengeMac);
  if (opened === "expired") return "The challenge has expired; get a new one.";
  // Not claimed: the same answer may be sent again once the delay has passed.
  if (opened === "too_early") return "A text question can be answered " + TEXT_ANSWER_DELAY_SEC + " s after it was issued; send the answer again.";
  if (typeof opened === "string") return "This challenge was not issued to you for this sale.";
  const ttlSec = opened.expSec - nowSec;
  if (!claimChallenge(opened.nonce, ttlSec)) return "This challenge was answered already; get a new one.";
  if (!isRightAnswer(opened, request.answer, mac as ChallengeMac)) return "The answer is wrong; get a new challenge.";
  // On the shopper's stock bucket, beside the keys the purchase script writes (one slot).
  return { key: usedChallengeKey(saleId, opened.nonce, bucketOfUser(userId, buckets), buckets), ttlMs: math.ceil(ttlSec * 1000) };
}
