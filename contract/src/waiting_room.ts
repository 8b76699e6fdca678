/**
 * A sale's waiting room, the pure part: when the queue is open, what a shopper's poll answers,
 * and the two signed tokens that keep polls and purchases free of per-shopper state.
 *
 *   ticket = <epoch> "." <position> "." tag
 *                  tag = HMAC("queue-ticket|" sale "|" len(user) ":" user "|" epoch "|" position)
 *   pass   = <epoch> "." <expMs> "." <position> "." tag
 *                  tag = HMAC("queue-pass|" sale "|" len(user) ":" user "|" epoch "|" expMs "|" position)
 *
 * A ticket tells the gateway the shopper's place without a Redis read (position 0: joined before
 * the start, place drawn at the start, not read yet). A pass lets its shopper buy until expMs.
 * Both name the sale's epoch (a new one with every rebuild of its Redis state): a rebuilt sale
 * has a new, empty queue, where an old position means nothing, so tokens of another epoch are
 * refused (the purchase script checks a pass's epoch against the sale's, atomically).
 * Both are signed with the gateway's HS256 key; their "|" prefixes keep them from passing as a
 * JWT, a challenge or each other. Numbers stay below 10^14, which LuaJIT prints in full.
 */
import type { ChallengeMac } from "./challenge";
import { constantTimeEquals } from "./jwt";
import type { WaitingRoom } from "./sale";
import { decimalValue } from "./text";

export type QueueStatus = "waiting" | "admitted" | "sold_out" | "ended";

/** What GET/POST …/queue answers (ticket and pass are added by the caller). */
export interface QueueAnswer {
  status: QueueStatus;
  /** The shopper's place, 1-based; fixed once known. Absent before the start (not drawn yet). */
  position?: number;
  /** Shoppers before this one not yet admitted. */
  ahead?: number;
  etaSeconds?: number;
  /** When the pass expires (admitted), or expired (ended: the turn passed unused). */
  passExpiresAtMs?: number;
  /** When to poll again; absent when nothing will change. */
  retryAfterMs?: number;
}

/** The JSON body of GET/POST …/queue as clients read it (openapi.yaml, QueueState): the answer, with the pass and ticket. */
export interface QueueReply {
  status: QueueStatus;
  position?: number;
  ahead?: number;
  etaSeconds?: number;
  pass?: string;
  /** ISO 8601 UTC. */
  passExpiresAt?: string;
  retryAfterMs?: number;
  ticket?: string;
}

/** What the gateway knows of a sale's queue from its last sync (kept in a shared dict). */
export interface QueueState {
  /** Positions 1..admitted have been admitted. */
  admitted: number;
  /** Positions 1..settled are over: their passes expired (or were used). */
  settled: number;
  /** Units left: 0 stops admission and answers sold_out. */
  unitsLeft: number;
  /** Admitted shoppers who bought, and whose passes expired unused. */
  buyers: number;
  expired: number;
}

export function queueOpensAtMs(sale: { startsAtMs: number }, room: WaitingRoom): number {
  return sale.startsAtMs - room.opensBeforeSeconds * 1000;
}

/** Where the queue stands at nowMs: not open yet, open before the start (no positions), admitting, over. */
export type QueueWindow = "early" | "before_start" | "admitting" | "ended";

export function queueWindowAt(sale: { startsAtMs: number; endsAtMs: number }, room: WaitingRoom, nowMs: number): QueueWindow {
  if (nowMs >= sale.endsAtMs) return "ended";
  if (nowMs >= sale.startsAtMs) return "admitting";
  return nowMs < queueOpensAtMs(sale, room) ? "early" : "before_start";
}

/** A waiting shopper polls every 1 to 5 s, by its wait; jitter adds up to a quarter second. */
const MIN_RETRY_MS = 1000;
const MAX_RETRY_MS = 5000;
/**
 * While the passes out cover every unit left, sold out may come with any purchase: waiting
 * shoppers poll twice as often then, so that they learn of it within a second.
 */
const HELD_RETRY_MS = 500;
/** Before the start: ask again at the start, at most this long from now (at least the minimum). */
const MAX_EARLY_RETRY_MS = 15000;
const MIN_EARLY_RETRY_MS = 250;
/** A sold-out sale may get units back (an expired reservation): look again this often. */
export const SOLD_OUT_RETRY_MS = 5000;

function clamp(v: number, lo: number, hi: number): number {
  return v < lo ? lo : v > hi ? hi : v;
}

/**
 * The answer to a poll. `jitter` in [0, 1) spreads a crowd's polls over a second (the first
 * poll after the start reads Redis once per shopper); `admittedAtMs` is given when position
 * ≤ state.admitted.
 */
export function queueAnswer(
  window: "before_start" | "admitting" | "ended",
  room: WaitingRoom,
  startsAtMs: number,
  position: number | undefined,
  state: QueueState,
  admittedAtMs: number | undefined,
  nowMs: number,
  jitter: number,
): QueueAnswer {
  if (window === "ended") return { status: "ended" };
  if (state.unitsLeft <= 0) return { status: "sold_out", position, retryAfterMs: SOLD_OUT_RETRY_MS };
  const spread = Math.floor(jitter * 1000);
  if (window === "before_start" || position === undefined) {
    return { status: "waiting", retryAfterMs: clamp(startsAtMs - nowMs, MIN_EARLY_RETRY_MS, MAX_EARLY_RETRY_MS) + spread };
  }
  if (position <= state.settled) return { status: "ended", position };
  if (admittedAtMs !== undefined && position <= state.admitted) {
    const expiresAt = admittedAtMs + room.passSeconds * 1000;
    if (expiresAt <= nowMs) return { status: "ended", position, passExpiresAtMs: expiresAt };
    return { status: "admitted", position, ahead: 0, passExpiresAtMs: expiresAt, retryAfterMs: MAX_RETRY_MS };
  }
  const ahead = position - 1 - state.admitted;
  const etaMs = ((ahead + 1) / room.admitPerSecond) * 1000;
  const held = state.admitted - state.buyers - state.expired >= state.unitsLeft;
  return {
    status: "waiting",
    position,
    ahead,
    etaSeconds: Math.ceil(etaMs / 1000),
    retryAfterMs: (held ? HELD_RETRY_MS : Math.floor(clamp(etaMs / 4, MIN_RETRY_MS, MAX_RETRY_MS))) + Math.floor(spread / 4),
  };
}

function numberText(n: number): string {
  return "" + Math.floor(n);
}

/**
 * A poll's JSON body (openapi.yaml, QueueState), written directly rather than through a JSON
 * encoder: a poll is the gateway's most frequent request. `integerText` is the platform's integer
 * formatter (in Lua, string.format's %d: tostring and cjson go through %.14g, which cost more than
 * the rest of the body). The ticket and pass are this gateway's own (digits, dots and base64url)
 * and the time an ISO string, so nothing needs escaping.
 */
export function queueAnswerJson(
  a: QueueAnswer,
  ticket: string | undefined,
  pass: string | undefined,
  passExpiresAt: string | undefined,
  integerText: (this: void, n: number) => string,
): string {
  let json = '{"status":"' + a.status + '"';
  if (a.position !== undefined) json += ',"position":' + integerText(Math.floor(a.position));
  if (a.ahead !== undefined) json += ',"ahead":' + integerText(Math.floor(a.ahead));
  if (a.etaSeconds !== undefined) json += ',"etaSeconds":' + integerText(Math.floor(a.etaSeconds));
  if (a.retryAfterMs !== undefined) json += ',"retryAfterMs":' + integerText(Math.floor(a.retryAfterMs));
  if (ticket !== undefined) json += ',"ticket":"' + ticket + '"';
  if (pass !== undefined) json += ',"pass":"' + pass + '"';
  if (passExpiresAt !== undefined) json += ',"passExpiresAt":"' + passExpiresAt + '"';
  return json + "}";
}

/** Decimal digits only, 1 to 15 of them (every number here is below 10^15). */
function isDigits(s: string): boolean {
  return decimalValue(s, 15) !== undefined;
}

/** The dot-separated fields of a token: exactly `count` of them, each non-empty, or undefined. */
function fields(token: string, count: number): string[] | undefined {
  const out: string[] = [];
  let from = 0;
  for (let k = 1; k < count; k++) {
    const dot = token.indexOf(".", from);
    if (dot <= from) return undefined;
    out.push(token.substring(from, dot));
    from = dot + 1;
  }
  if (from >= token.length) return undefined;
  out.push(token.substring(from));
  return out;
}

function ticketTag(saleId: string, userId: string, epochText: string, positionText: string, mac: ChallengeMac): string {
  return mac.signHs256("queue-ticket|" + saleId + "|" + userId.length + ":" + userId + "|" + epochText + "|" + positionText);
}

function passTag(saleId: string, userId: string, epochText: string, expText: string, positionText: string, mac: ChallengeMac): string {
  return mac.signHs256("queue-pass|" + saleId + "|" + userId.length + ":" + userId + "|" + epochText + "|" + expText + "|" + positionText);
}

/** A ticket for this sale (of this epoch), user and position (0: drawn at the start, not read yet). */
export function queueTicket(saleId: string, userId: string, epoch: number, position: number, mac: ChallengeMac): string {
  const e = numberText(epoch);
  const p = numberText(position);
  return e + "." + p + "." + ticketTag(saleId, userId, e, p, mac);
}

export interface OpenedTicket {
  epoch: number;
  position: number;
}

/** What a ticket carries, or undefined when it was not made for this sale and user. */
export function openQueueTicket(ticket: string, saleId: string, userId: string, mac: ChallengeMac): OpenedTicket | undefined {
  const f = fields(ticket, 3);
  if (f === undefined) return undefined;
  const [e, p, tag] = [f[0] as string, f[1] as string, f[2] as string];
  if (!isDigits(e) || !isDigits(p)) return undefined;
  if (!constantTimeEquals(ticketTag(saleId, userId, e, p, mac), tag)) return undefined;
  return { epoch: Number(e), position: Number(p) };
}

export function queuePass(saleId: string, userId: string, epoch: number, position: number, expiresAtMs: number, mac: ChallengeMac): string {
  const ep = numberText(epoch);
  const e = numberText(expiresAtMs);
  const p = numberText(position);
  return ep + "." + e + "." + p + "." + passTag(saleId, userId, ep, e, p, mac);
}

export type PassFailure = "malformed" | "expired" | "forged";

export interface OpenedPass {
  epoch: number;
  position: number;
  expiresAtMs: number;
}

/**
 * Checks a pass for this sale and user at nowMs. "forged" covers a pass made for another
 * sale or user, or altered. Its epoch is the caller's to check (against the sale's, in Redis).
 */
export function openQueuePass(pass: string, saleId: string, userId: string, nowMs: number, mac: ChallengeMac): OpenedPass | PassFailure {
  const f = fields(pass, 4);
  if (f === undefined) return "malformed";
  const [ep, e, p, tag] = [f[0] as string, f[1] as string, f[2] as string, f[3] as string];
  if (!isDigits(ep) || !isDigits(e) || !isDigits(p)) return "malformed";
  if (!constantTimeEquals(passTag(saleId, userId, ep, e, p, mac), tag)) return "forged";
  const expiresAtMs = Number(e);
  if (expiresAtMs <= nowMs) return "expired";
  return { epoch: Number(ep), position: Number(p), expiresAtMs };
}

/**
 * Where position p was admitted, given when the admission cursor passed each value: the
 * first entry whose cursor reached p (cursors ascending). Undefined when no entry reaches p.
 */
export function admittedAt(cursors: number[], times: number[], position: number): number | undefined {
  let lo = 0;
  let hi = cursors.length - 1;
  if (hi < 0 || (cursors[hi] as number) < position) return undefined;
  while (lo < hi) {
    const mid = Math.floor((lo + hi) / 2);
    if ((cursors[mid] as number) >= position) hi = mid;
    else lo = mid + 1;
  }
  return times[lo];
}
