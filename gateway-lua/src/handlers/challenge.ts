/**
 * POST /api/sales/{id}/challenge — a challenge to answer before buying, for sales that ask for
 * one: issued from the start (or FS_CHALLENGE_LEAD_SECONDS before it) until the end, to the
 * caller only, under the same per-user rate limit as purchases. No Redis: it is signed, not stored.
 */
import { retryAfterSeconds } from "../core/gcra";
import { challengeWindowAt } from "../core/challenge";
import { cachedSale } from "../adapters/sale_cache";
import { isSoldOut } from "../adapters/sold_out_flags";
import { userRateIncoming } from "../adapters/user_rate_limiter";
import { issueChallenge } from "../adapters/challenges";
import { encodeJson } from "../adapters/json";
import { authenticatedShopper } from "../http/request";
import { sendError, sendErrorWithMessage, sendJson, sendNotStarted, sendRetryLater } from "../http/respond";
import { isoTime } from "../http/time_format";
import { settings } from "../settings";

export function handleChallenge(this: void): void {
  const c = cachedSale(ngx.var.fs_sale_id ?? "");
  if (c === undefined) return sendError("sale_not_found");
  const sale = c.sale;
  if (!sale.challenge) return sendErrorWithMessage("not_found", "This sale asks for no challenge.");
  const nowMs = ngx.now() * 1000;

  const window = challengeWindowAt(sale, nowMs, settings().challengeLeadMs);
  if (window === "early") return sendNotStarted(sale.startsAt);
  if (window === "ended") return sendError("sale_ended");
  if (sale.paused) return sendRetryLater("sale_paused", 5);
  if (isSoldOut(sale.id)) return sendError("sold_out");

  const userId = authenticatedShopper(nowMs / 1000);
  if (userId === undefined) return sendError("unauthorized");

  const rate = userRateIncoming(sale.id, userId, nowMs, c.userPolicy);
  if (!rate.allowed) return sendRetryLater("rate_limited", retryAfterSeconds(rate.retryAfterMs));

  const issued = issueChallenge(sale.id, userId, nowMs / 1000);
  if (issued === undefined) {
    ngx.log(ngx.ERR, "challenge: the random source failed");
    return sendError("unavailable");
  }
  sendJson(
    200,
    encodeJson({
      challengeId: issued.challengeId,
      image: "data:image/svg+xml;base64," + ngx.encode_base64(issued.svg),
      expiresAt: isoTime(issued.expiresAtSec * 1000),
    }),
  );
}
