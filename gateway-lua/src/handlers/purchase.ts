/**
 * POST /api/sales/{id}/purchase — checks run cheapest first and none of them touches the
 * network (DESIGN.md, "The purchase path"); an admitted attempt costs one Redis round trip.
 * nginx's limit_req per client IP has already run.
 */
import { saleWindowAt } from "@flash-sale/contract/sale";
import { retryAfterSeconds } from "@flash-sale/contract/gcra";
import { isJsonContentType, parsePurchaseBody } from "@flash-sale/contract/purchase_request";
import { cachedSale, configsKnown, shopperBucket } from "../adapters/sale_cache";
import { isSoldOut, markSoldOut } from "../adapters/sold_out_flags";
import { userRateIncoming } from "../adapters/user_rate_limiter";
import { admit } from "../adapters/admission_gate";
import { liveGateways } from "../adapters/gateway_registry";
import { decodeJson } from "../adapters/json";
import { purchaseInRedis, type UsedChallengeMark } from "../adapters/purchase_script";
import { redeemChallenge } from "../adapters/challenges";
import { checkPass } from "../adapters/waiting_room";
import { observeRedis, redisClock } from "../adapters/metrics";
import { redisSaturated } from "../adapters/redis_connection";
import { authenticatedShopper, readBoundedBody } from "../http/request";
import { sendError, sendErrorWithMessage, sendJson, sendNotStarted, sendRetryLater, sendSaleHeld } from "../http/respond";
import { settings } from "../settings";

const NOT_REPLICATED_MESSAGE =
  "Your order may have been taken, but no Redis replica confirmed it in time: it shows in your orders (orderId) unless Redis fails over first. Check there before you retry.";

const OVERLOADED_MESSAGE = "The gateway is overloaded: nothing was sold. Retry after the given seconds.";

const UNKNOWN_MESSAGE = "Redis did not answer: your order may have been taken. Check your orders before you retry.";

/** The one 503 field that says a purchase may have sold (docs/guarantees.md, "What a 202 guarantees"); any other 503 sold nothing. */
const ORDER_MAY_EXIST = ',"orderMayExist":true';

const BUCKET_EMPTY_MESSAGE = "Units of this sale are being moved to where your purchase is served; nothing was sold. Retry after the given seconds.";

/** Open unpaid orders free up as they are paid, fail or expire: worth a retry soon. */
const OPEN_UNPAID_RETRY_AFTER_SECONDS = 5;

const PASS_REFUSALS = {
  missing: "This sale has a waiting room: join it with POST /api/sales/{id}/queue and buy with the pass it gives you.",
  malformed: "This is not a pass of this sale's waiting room.",
  forged: "This pass was not issued to you for this sale.",
  expired: "Your pass has expired; your turn went to the next shopper.",
  stale: "The waiting room was restarted after a failure and your pass is from before it; join the queue again.",
};

export function handlePurchase(this: void): void {
  const c = cachedSale(ngx.var.fs_sale_id ?? "");
  // Before the first config sync an unknown sale may exist: say so rather than 404.
  if (c === undefined) return sendError(configsKnown() ? "sale_not_found" : "unavailable");
  const sale = c.sale;
  const nowMs = ngx.now() * 1000;

  const window = saleWindowAt(sale, nowMs);
  if (window === "upcoming") return sendNotStarted(sale.startsAt);
  if (window === "ended") return sendError("sale_ended");
  if (window === "paused") return sendRetryLater("sale_paused", 5);
  // Its units left are unknown until it is rebuilt (a sold-out flag may be stale then).
  if (c.held) return sendSaleHeld();
  if (isSoldOut(sale.id)) return sendError("sold_out");
  if (redisSaturated(nowMs / 1000)) return sendErrorWithMessage("unavailable", OVERLOADED_MESSAGE, "overloaded");

  const userId = authenticatedShopper(nowMs / 1000, true);
  if (userId === undefined) return sendError("unauthorized");

  const rate = userRateIncoming(sale.id, userId, nowMs, c.userPolicy);
  if (!rate.allowed) return sendRetryLater("rate_limited", retryAfterSeconds(rate.retryAfterMs));

  if (!isJsonContentType(ngx.var.http_content_type)) {
    return sendErrorWithMessage("bad_request", "Content-Type must be application/json");
  }
  const [body, problem] = readBoundedBody();
  if (problem === "too_large") return sendError("payload_too_large");
  if (body === undefined) return sendErrorWithMessage("bad_request", "the body is empty");
  const decoded = decodeJson(body);
  if (decoded === undefined) return sendErrorWithMessage("bad_request", "the body is not valid JSON");
  const request = parsePurchaseBody(decoded, sale.perUserLimit);
  if (typeof request === "string") return sendErrorWithMessage("bad_request", request);

  let passEpoch: number | undefined;
  if (sale.waitingRoom !== undefined) {
    const passed = request.pass === undefined ? "missing" : checkPass(request.pass, sale.id, userId, nowMs);
    if (typeof passed === "string") return sendErrorWithMessage("pass_required", PASS_REFUSALS[passed]);
    passEpoch = passed.epoch;
  }

  let usedChallenge: UsedChallengeMark | undefined;
  if (sale.challenge) {
    const redeemed = redeemChallenge(sale.id, userId, request, nowMs, sale.stockBuckets);
    if (typeof redeemed === "string") return sendErrorWithMessage("challenge_failed", redeemed);
    usedChallenge = redeemed;
  }

  // admitPerSecond is the fleet's: this gateway admits its share.
  if (!admit(sale.id, nowMs, sale.limits.admitPerSecond / liveGateways())) return sendRetryLater("rate_limited", 1, "admission_limited");

  const redisStartedAt = redisClock();
  const reply = purchaseInRedis(c, shopperBucket(c, userId), userId, request.quantity, ngx.var.request_id ?? "", usedChallenge, passEpoch);
  // One bucket empty is not the sale sold out (its siblings may hold units): only a sold_out reply says so then.
  const lastUnit = reply.unitsLeft === 0 && sale.stockBuckets === 1;
  observeRedis("purchase", redisStartedAt, reply.outcome !== "unavailable" && reply.outcome !== "unknown");
  switch (reply.outcome) {
    case "accepted":
      if (lastUnit) markSoldOut(sale.id);
      return sendJson(202, '{"orderId":"' + (reply.orderId as string) + '","status":"pending"}', "no-store", "accepted");
    case "not_replicated":
      if (lastUnit) markSoldOut(sale.id);
      ngx.log(ngx.ERR, "purchase: order ", reply.orderId ?? "", " accepted but acknowledged by ", reply.replicas ?? 0, " of ",
        settings().redisWaitReplicas, " replicas within ", settings().redisWaitTimeoutMs, " ms: answered 503 unavailable");
      return sendErrorWithMessage("unavailable", NOT_REPLICATED_MESSAGE, "not_replicated", ORDER_MAY_EXIST + ',"orderId":"' + (reply.orderId as string) + '"');
    case "not_open":
      // Redis' clock and state decide; this gateway's copy was behind (a pause, an end, a skewed clock).
      if (reply.window === "upcoming") return sendNotStarted(sale.startsAt);
      if (reply.window === "paused") return sendRetryLater("sale_paused", 5);
      return sendError("sale_ended");
    case "stale_pass":
      return sendErrorWithMessage("pass_required", PASS_REFUSALS.stale);
    case "held":
      return sendSaleHeld();
    case "sold_out":
      markSoldOut(sale.id);
      return sendError("sold_out");
    case "not_enough_left":
      return sendErrorWithMessage("sold_out", "Fewer units are left than the quantity asked for.");
    case "bucket_empty":
      // Not sold out: units wait in another bucket of the sale and are being moved to this one.
      return sendErrorWithMessage("unavailable", BUCKET_EMPTY_MESSAGE, "bucket_empty");
    case "limit_reached":
      return sendError("limit_reached");
    case "challenge_used":
      return sendErrorWithMessage("challenge_failed", "This challenge was used already; get a new one.");
    case "too_many_unpaid":
      return sendRetryLater("sale_busy", OPEN_UNPAID_RETRY_AFTER_SECONDS);
    case "not_loaded":
      ngx.log(ngx.ERR, "purchase: state of sale '", sale.id, "' is not loaded in Redis (units left, counters)");
      return sendError("unavailable");
    case "unavailable":
      ngx.log(ngx.ERR, "purchase: Redis failed, nothing sold: ", reply.error ?? "");
      return sendError("unavailable");
    case "unknown":
      ngx.log(ngx.ERR, "purchase: sent to Redis, no answer (the order may have been taken): ", reply.error ?? "");
      return sendErrorWithMessage("unavailable", UNKNOWN_MESSAGE, "unknown", ORDER_MAY_EXIST);
  }
}
