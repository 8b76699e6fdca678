/**
 * POST /api/sales/{id}/queue joins the sale's waiting room (one Redis round trip; joining again
 * finds the same place, or, after a turn passed unused, a new one at the back). GET answers the caller's state from this gateway's memory: the place
 * travels in the signed ticket the client sends back (`?ticket=`), so only a poll without one,
 * or the first after the start for a shopper who joined before it, reads Redis (once).
 * Both answer {status, position?, ahead?, etaSeconds?, pass?, passExpiresAt?, retryAfterMs?, ticket?}.
 * Tickets and passes name the sale's epoch: after a rebuild of the sale (Redis lost its state)
 * the queue is new and empty, so a ticket of the old epoch is looked up in Redis, which answers
 * 404 not_in_queue, and the shopper joins again.
 */
import { retryAfterSeconds } from "@flash-sale/contract/gcra";
import { SOLD_OUT_RETRY_MS, queueAnswer, queueAnswerJson, queueOpensAtMs, queueWindowAt, type QueueState } from "@flash-sale/contract/waiting_room";
import type { CachedSale } from "../adapters/sale_cache";
import { cachedSale } from "../adapters/sale_cache";
import { userRateIncoming } from "../adapters/user_rate_limiter";
import { admissionTime, openTicket, passFor, placeInQueue, queueState, ticketFor } from "../adapters/waiting_room";
import type { OpenedTicket } from "@flash-sale/contract/waiting_room";
import { observeRedis, redisClock } from "../adapters/metrics";
import { authenticatedShopper } from "../http/request";
import { sendError, sendErrorWithMessage, sendJson, sendNotStarted, sendRetryLater, sendSaleHeld } from "../http/respond";
import { isoTime } from "../http/time_format";

function integerText(this: void, n: number): string {
  return string.format("%d", n);
}

/** The place from Redis: a position (0: drawn at the start) and its epoch, or an answer already sent. */
function placeFromRedis(c: CachedSale, userId: string, joining: boolean, nowMs: number): OpenedTicket | undefined {
  const rate = userRateIncoming(c.sale.id, userId, nowMs, c.userPolicy);
  if (!rate.allowed) {
    sendRetryLater("rate_limited", retryAfterSeconds(rate.retryAfterMs));
    return undefined;
  }
  const startedAt = redisClock();
  const [place, err] = placeInQueue(c, userId, !joining);
  observeRedis("queue_place", startedAt, place !== "unavailable");
  if (place === "not_in_queue" || place === "limit_reached") {
    sendError(place);
    return undefined;
  }
  if (typeof place === "string") {
    if (place === "unavailable") ngx.log(ngx.ERR, "queue: Redis failed: ", err ?? "");
    else ngx.log(ngx.ERR, "queue: sale '", c.sale.id, "' is not built in Redis");
    sendError("unavailable");
    return undefined;
  }
  return place;
}

export function handleQueue(this: void): void {
  const c = cachedSale(ngx.var.fs_sale_id ?? "");
  if (c === undefined) return sendError("sale_not_found");
  const sale = c.sale;
  const room = sale.waitingRoom;
  if (room === undefined) return sendErrorWithMessage("not_found", "This sale has no waiting room: buy directly.");
  const nowMs = ngx.now() * 1000;
  const window = queueWindowAt(sale, room, nowMs);
  if (window === "early") return sendNotStarted(sale.startsAt, "The waiting room opens at " + isoTime(queueOpensAtMs(sale, room)) + ".");

  const userId = authenticatedShopper(nowMs / 1000);
  if (userId === undefined) return sendError("unauthorized");
  if (window === "ended") return sendJson(200, '{"status":"ended"}', "no-store", "ended");
  if (c.held) return sendSaleHeld();

  let synced = queueState(sale.id);
  const joining = ngx.req.get_method() === "POST";
  // Sold out: nobody joins or moves; a sold-out sale that gets units back is joined then.
  if ((synced?.unitsLeft ?? c.approxLeft ?? sale.stock) <= 0 && joining) {
    return sendJson(200, queueAnswerJson({ status: "sold_out", retryAfterMs: SOLD_OUT_RETRY_MS }, undefined, undefined, undefined, integerText), "no-store", "sold_out");
  }

  const sent = joining ? undefined : ngx.var.arg_ticket;
  // A ticket counts only against the state of its own epoch (the queue it was given in).
  let place = sent === undefined ? undefined : openTicket(sent, sale.id, userId);
  if (place !== undefined && place.epoch !== synced?.epoch) place = undefined;
  let ticket = place === undefined ? undefined : sent;
  if (place === undefined || (place.position === 0 && window === "admitting")) {
    place = placeFromRedis(c, userId, joining, nowMs);
    if (place === undefined) return;
    ticket = ticketFor(sale.id, userId, place.epoch, place.position);
  }
  // This gateway has not synced the queue of this epoch yet (a rebuild moments ago): nobody is admitted.
  if (synced !== undefined && synced.epoch !== place.epoch) synced = undefined;
  const state: QueueState = synced ?? { admitted: 0, settled: 0, unitsLeft: c.approxLeft ?? sale.stock, buyers: 0, expired: 0 };
  const known = place.position > 0 ? place.position : undefined;
  const admittedAtMs = synced !== undefined && known !== undefined && known <= synced.admitted ? admissionTime(sale.id, place.epoch, known, synced.syncedAtMs) : undefined;
  const answer = queueAnswer(window, room, sale.startsAtMs, known, state, admittedAtMs, nowMs, math.random());

  const expiresAt = answer.passExpiresAtMs;
  const pass = expiresAt !== undefined && answer.status === "admitted" ? passFor(sale.id, userId, place.epoch, place.position, expiresAt) : undefined;
  sendJson(200, queueAnswerJson(answer, ticket, pass, expiresAt === undefined ? undefined : isoTime(expiresAt), integerText), "no-store", answer.status);
}
