/**
 * POST /api/sales/{id}/challenge — a challenge to answer before buying, for sales that ask for
 * one, a picture or (body {"kind":"text"}) its text alternative: issued from the start (or FS_CHALLENGE_LEAD_SECONDS before it) until the end, to the
 * caller only, under the same per-user rate limit as purchases. It is signed, not stored; its one
 * Redis call is an HGET of the sale's buyers, so that a shopper who already holds the per-user
 * limit hears 409 limit_reached before solving anything (nothing is written either way).
 */
import { retryAfterSeconds } from "@flash-sale/contract/gcra";
import { challengeWindowAt, type ChallengeKind } from "@flash-sale/contract/challenge";
import { cachedSale, configsKnown } from "../adapters/sale_cache";
import { isSoldOut } from "../adapters/sold_out_flags";
import { userRateIncoming } from "../adapters/user_rate_limiter";
import { issueChallenge } from "../adapters/challenges";
import { unitsHeld } from "../adapters/units_held";
import { observeRedis, redisClock } from "../adapters/metrics";
import { decodeJson, encodeJson } from "../adapters/json";
import { authenticatedShopper, readBoundedBody } from "../http/request";
import { sendError, sendErrorWithMessage, sendJson, sendNotStarted, sendRetryLater, sendSaleHeld } from "../http/respond";
import { isoTime } from "../http/time_format";
import { settings } from "../settings";

export function handleChallenge(this: void): void {
  const c = cachedSale(ngx.var.fs_sale_id ?? "");
  // Before the first config sync an unknown sale may exist: say so rather than 404.
  if (c === undefined) return sendError(configsKnown() ? "sale_not_found" : "unavailable");
  const sale = c.sale;
  if (!sale.challenge) return sendErrorWithMessage("not_found", "This sale asks for no challenge.");
  const nowMs = ngx.now() * 1000;

  const window = challengeWindowAt(sale, nowMs, settings().challengeLeadMs);
  if (window === "early") return sendNotStarted(sale.startsAt);
  if (window === "ended") return sendError("sale_ended");
  if (sale.paused) return sendRetryLater("sale_paused", 5);
  if (c.held) return sendSaleHeld();
  if (isSoldOut(sale.id)) return sendError("sold_out");

  const userId = authenticatedShopper(nowMs / 1000, true);
  if (userId === undefined) return sendError("unauthorized");
  const kind = requestedKind();
  if (kind === "too_large") return sendError("payload_too_large");
  if (kind === undefined) return sendErrorWithMessage("bad_request", 'the body is {} or {"kind":"picture"|"text"}');

  const rate = userRateIncoming(sale.id, userId, nowMs, c.userPolicy);
  if (!rate.allowed) return sendRetryLater("rate_limited", retryAfterSeconds(rate.retryAfterMs));

  const redisStartedAt = redisClock();
  const held = unitsHeld(c, userId);
  observeRedis("eligibility", redisStartedAt, typeof held !== "string");
  if (typeof held === "string") {
    ngx.log(ngx.ERR, "challenge: Redis failed: ", held);
    return sendError("unavailable");
  }
  if (held >= sale.perUserLimit) return sendError("limit_reached");

  const issued = issueChallenge(sale.id, userId, nowMs / 1000, kind);
  if (issued === undefined) {
    ngx.log(ngx.ERR, "challenge: the random source failed");
    return sendError("unavailable");
  }
  sendJson(
    200,
    encodeJson({
      challengeId: issued.challengeId,
      kind,
      image: issued.svg === undefined ? undefined : "data:image/svg+xml;base64," + ngx.encode_base64(issued.svg),
      question: issued.question,
      expiresAt: isoTime(issued.expiresAtSec * 1000),
      answerableAt: issued.answerableAtSec === undefined ? undefined : isoTime(issued.answerableAtSec * 1000),
    }),
  );
}

/** The kind asked for: an empty body or `{}` is a picture, `{"kind":"text"}` the text question. */
function requestedKind(): ChallengeKind | "too_large" | undefined {
  const [body, problem] = readBoundedBody();
  if (problem === "too_large") return "too_large";
  if (body === undefined) return "picture";
  const decoded = decodeJson(body);
  if (typeof decoded !== "object" || decoded === null) return undefined;
  const kind = (decoded as { [k: string]: unknown })["kind"];
  if (kind === undefined || kind === "picture") return "picture";
  return kind === "text" ? "text" : undefined;
}
