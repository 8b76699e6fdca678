/**
 * Answers to real issued challenges, for tests only: the picture is made to be unreadable by
 * programs, but a test holds the gateway's secret, so it can find the one answer (of 100,000)
 * whose keyed hash the challenge id carries. Also mints challenges directly, as the gateway
 * would have at another time.
 */
import { ANSWER_DIGITS, challengeId, isRightAnswer, openChallenge } from "@flash-sale/gateway-lua/core/challenge";
import { nodeJwtPlatform } from "../../gateway-lua/test/support/node-jwt-platform";
import { TEST_JWT_SECRET } from "./tokens";

export function solveChallenge(id: string, saleId: string, userId: string, secret = TEST_JWT_SECRET): string {
  const mac = nodeJwtPlatform(secret);
  const opened = openChallenge(id, saleId, userId, Date.now() / 1000, mac);
  if (typeof opened === "string") throw new Error(`challenge ${id} does not open for ${saleId}/${userId}: ${opened}`);
  for (let n = 0; n < 10 ** ANSWER_DIGITS; n++) {
    const answer = String(n).padStart(ANSWER_DIGITS, "0");
    if (isRightAnswer(opened, answer, mac)) return answer;
  }
  throw new Error(`no answer fits challenge ${id}`);
}

/** A challenge as the gateway would have issued it at `issuedAtSec`, with a known answer. */
export function mintChallenge(saleId: string, userId: string, issuedAtSec: number, answer: string, nonce = "t".repeat(22)): string {
  return challengeId(saleId, userId, Math.floor(issuedAtSec), nonce, answer, nodeJwtPlatform(TEST_JWT_SECRET));
}

/** Any answer but `answer`, of the same length. */
export function wrongAnswer(answer: string): string {
  return answer.slice(0, -1) + String((Number(answer.slice(-1)) + 1) % 10);
}
