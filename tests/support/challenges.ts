/**
 * Answers to real issued challenges, for tests only: the picture is made to be unreadable by
 * programs, but a test holds the gateway's secret, so it can find the one answer (of 117,649)
 * whose keyed hash the challenge id carries. Also mints challenges directly, as the gateway
 * would have at another time.
 */
import { ALPHABET, ANSWER_LENGTH, CHALLENGE_TTL_SEC, TEXT_ANSWER_DELAY_SEC, challengeId, isRightAnswer, openChallenge, type ChallengeKind } from "@flash-sale/contract/challenge";
import { nodeJwtPlatform } from "../../contract/test/support/node-jwt-platform";
import { TEST_JWT_SECRET } from "./tokens";

/** The n-th answer of all ALPHABET^ANSWER_LENGTH. */
function nthAnswer(n: number): string {
  let out = "";
  for (let i = 0; i < ANSWER_LENGTH; i++, n = Math.floor(n / ALPHABET.length)) out = ALPHABET[n % ALPHABET.length] + out;
  return out;
}

export function solveChallenge(id: string, saleId: string, userId: string, secret = TEST_JWT_SECRET): string {
  const mac = nodeJwtPlatform(secret);
  // Opened as at the end of a text question's delay, if that is still to come.
  const expSec = Number(/^t?(\d+)\./.exec(id)?.[1]);
  const opened = openChallenge(id, saleId, userId, Math.max(Date.now() / 1000, expSec - CHALLENGE_TTL_SEC + TEXT_ANSWER_DELAY_SEC), mac);
  if (typeof opened === "string") throw new Error(`challenge ${id} does not open for ${saleId}/${userId}: ${opened}`);
  for (let n = 0; n < ALPHABET.length ** ANSWER_LENGTH; n++) {
    const answer = nthAnswer(n);
    if (isRightAnswer(opened, answer, mac)) return answer;
  }
  throw new Error(`no answer fits challenge ${id}`);
}

/** A challenge as the gateway would have issued it at `issuedAtSec`, with a known answer. */
export function mintChallenge(saleId: string, userId: string, issuedAtSec: number, answer: string, nonce = "t".repeat(22), kind: ChallengeKind = "picture"): string {
  return challengeId(saleId, userId, Math.floor(issuedAtSec), nonce, answer, kind, nodeJwtPlatform(TEST_JWT_SECRET));
}

/** Any answer but `answer`, of the same length. */
export function wrongAnswer(answer: string): string {
  return answer.slice(0, -1) + ALPHABET[(ALPHABET.indexOf(answer.slice(-1)) + 1) % ALPHABET.length];
}
