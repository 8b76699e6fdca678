/**
 * Waiting rooms in nginx (the pure part is core/waiting_room.ts). Joining is one Redis round
 * trip (redis-scripts/queue/queue-place.lua); a poll reads only this gateway's memory: each worker's
 * sync timer runs redis-scripts/queue/queue-tick.lua for every sale whose queue is open, which
 * advances the fleet's admission cursor, and keeps
 *   - the queue's state in the fs_queue shared dict, for every worker (newest Redis time wins,
 *     so a poll never sees the cursor move back), and
 *   - its own copy of when the cursor passed each value, for the passes' expiry.
 * Both are of the sale's epoch that Redis answered with: a rebuild of the sale (a new epoch)
 * starts a new queue, and the copy of the old one is dropped.
 */
import * as random from "resty.random";
import type { SaleKeys } from "@flash-sale/contract/keys";
import { QUEUE_PLACE, QUEUE_TICK } from "@flash-sale/contract/scripts/queue";
import { unhandledReply, type Named } from "@flash-sale/contract/scripts/script";
import {
  admittedAt,
  queueOpensAtMs,
  queuePass,
  queueTicket,
  openQueuePass,
  openQueueTicket,
  type OpenedPass,
  type OpenedTicket,
  type PassFailure,
  type QueueState,
} from "@flash-sale/contract/waiting_room";
import type { ChallengeMac } from "@flash-sale/contract/challenge";
import type { CachedSale } from "./sale_cache";
import { createJwtPlatform } from "./jwt_platform";
import { newMemo, type Memo } from "./memo";
import { callSlot } from "./redis_connection";
import { loadScript, runScript, type LoadedScript } from "./redis_scripts";
import { queueDict } from "./shared_dict";
import { isSoldOut } from "./sold_out_flags";

/**
 * A pass is settled this long after it expires: a gateway stamps a pass from its copy of the
 * admissions, which may be a sync (or a slow Redis reply) behind the cursor.
 */
const SETTLE_GRACE_MS = 2000;

let placeScript: LoadedScript<typeof QUEUE_PLACE> | undefined;
let tickScript: LoadedScript<typeof QUEUE_TICK> | undefined;
let mac: ChallengeMac | undefined;
/** Tickets this worker opened: a shopper polls with the same one each time. */
let openedTickets: Memo<{ saleId: string; userId: string; opened: OpenedTicket }> | undefined;

/** Loads the scripts, prepares the HMAC of the gateway's key and the memo of tickets; called once at init. */
export function initWaitingRoom(secret: string, memoSize: number): void {
  placeScript = loadScript(QUEUE_PLACE);
  tickScript = loadScript(QUEUE_TICK);
  mac = createJwtPlatform(secret);
  openedTickets = newMemo(memoSize);
}

export function ticketFor(saleId: string, userId: string, epoch: number, position: number): string {
  return queueTicket(saleId, userId, epoch, position, mac as ChallengeMac);
}

/**
 * What the ticket carries, or undefined when it was not made for this sale and user. A ticket
 * this worker opened before is not checked again: its tag names the sale and user it was opened
 * for, so it is good for them and for no one else.
 */
export function openTicket(ticket: string, saleId: string, userId: string): OpenedTicket | undefined {
  const known = openedTickets?.get(ticket);
  if (known !== undefined) return known.saleId === saleId && known.userId === userId ? known.opened : undefined;
  const opened = openQueueTicket(ticket, saleId, userId, mac as ChallengeMac);
  if (opened !== undefined) openedTickets?.set(ticket, { saleId, userId, opened });
  return opened;
}

export function passFor(saleId: string, userId: string, epoch: number, position: number, expiresAtMs: number): string {
  return queuePass(saleId, userId, epoch, position, expiresAtMs, mac as ChallengeMac);
}

export function checkPass(pass: string, saleId: string, userId: string, nowMs: number): OpenedPass | PassFailure {
  return openQueuePass(pass, saleId, userId, nowMs, mac as ChallengeMac);
}

// --- joining and looking up a place: one round trip

/** A position (0: joined before the start, drawn at it) in the queue of an epoch, or why there is none. */
export type Place = OpenedTicket | "not_in_queue" | "limit_reached" | "not_built" | "unavailable";

/** Scores below 2^48 from 6 random bytes: the pre-start order is the order of these. */
function randomScore(): string | undefined {
  const bytes = random.bytes(6, true);
  if (bytes === undefined) return undefined;
  let n = 0;
  for (let i = 1; i <= 6; i++) n = n * 256 + (string.byte(bytes, i) as number);
  return string.format("%d", n);
}

/** The script's ARGV by name, and its KEYS: one table per call. */
interface PlaceCall extends Named<(typeof QUEUE_PLACE.args)[number], string | number> {
  keys: SaleKeys;
}

function runPlace(this: void, red: RestyRedis, _runId: string, asking: boolean, p: PlaceCall): LuaMultiReturn<[unknown, string | undefined]> {
  return runScript(red, placeScript as NonNullable<typeof placeScript>, p.keys, p, asking);
}

/** Joins (or, with `lookOnly`, finds) the shopper's place. */
export function placeInQueue(c: CachedSale, userId: string, lookOnly: boolean): LuaMultiReturn<[Place, string | undefined]> {
  const score = lookOnly ? "0" : randomScore();
  if (score === undefined) return $multi("unavailable", "the random source failed");
  const [res, err] = callSlot(c.slot, runPlace, { keys: c.keys, userId, mode: lookOnly ? "look" : "join", score, perUserLimit: c.sale.perUserLimit });
  const reply = typeof res === "object" ? QUEUE_PLACE.decode(res) : undefined;
  if (reply === undefined) return $multi("unavailable", tostring(err));
  switch (reply.reply) {
    case "place":
      return $multi(reply, undefined); // an OpenedTicket: position and epoch
    case "not_in_queue":
    case "not_built":
    case "limit_reached":
      return $multi(reply.reply, undefined);
    default:
      return unhandledReply(reply);
  }
}

// --- the state each sync keeps

interface Timeline {
  epoch: number;
  cursors: number[];
  times: number[];
}

const timelines = new LuaTable<string, Timeline>();

function stateKey(saleId: string): string {
  return "q:" + saleId;
}

function stateTimeKey(saleId: string): string {
  return "qt:" + saleId;
}

export type SyncedQueueState = QueueState & { length: number; syncedAtMs: number; epoch: number };

/** Per sale, the last state text this worker parsed and what it said: polls between syncs read the same text. */
const parsedStates = new LuaTable<string, { raw: string; state: SyncedQueueState }>();

function parseState(raw: string): SyncedQueueState | undefined {
  const [admitted, settled, left, length, buyers, expired, at, epoch] = string.match(raw, "^(%d+) (%d+) (%-?%d+) (%d+) (%d+) (%d+) (%d+) (%d+)$");
  if (epoch === undefined) return undefined;
  return {
    epoch: tonumber(epoch) as number,
    admitted: tonumber(admitted) as number,
    settled: tonumber(settled) as number,
    unitsLeft: tonumber(left) as number,
    length: tonumber(length) as number,
    buyers: tonumber(buyers) as number,
    expired: tonumber(expired) as number,
    syncedAtMs: tonumber(at) as number,
  };
}

/** The queue's state as last synced on this gateway, its length and epoch (read-only); undefined before the first sync. */
export function queueState(saleId: string): SyncedQueueState | undefined {
  const [raw] = queueDict().get(stateKey(saleId));
  if (typeof raw !== "string") return undefined;
  let parsed = parsedStates.get(saleId);
  if (parsed === undefined || parsed.raw !== raw) {
    const state = parseState(raw);
    if (state === undefined) return undefined;
    parsed = { raw, state };
    parsedStates.set(saleId, parsed);
  }
  // The sold-out flag is newer than the last sync when a purchase just took the last unit.
  if (parsed.state.unitsLeft !== 0 && isSoldOut(saleId)) return { ...parsed.state, unitsLeft: 0 };
  return parsed.state;
}

/**
 * When position p was admitted by Redis' clock. When this worker's copy has not caught up with
 * the cursor another worker synced, `syncedAtMs`, the Redis time of that sync: a little later
 * than the admission (by less than a sync period), never earlier.
 */
export function admissionTime(saleId: string, epoch: number, position: number, syncedAtMs: number): number {
  const t = timelines.get(saleId);
  if (t === undefined || t.epoch !== epoch) return syncedAtMs;
  return admittedAt(t.cursors, t.times, position) ?? syncedAtMs;
}

function keepTimeline(saleId: string, epoch: number, reply: number[], settled: number): void {
  let t = timelines.get(saleId);
  if (t === undefined || t.epoch !== epoch) {
    t = { epoch, cursors: [], times: [] };
    timelines.set(saleId, t);
  }
  if ((t.cursors[0] ?? settled + 1) <= settled) {
    // Positions up to `settled` are over (the poll says so): their admissions are not needed.
    const cursors: number[] = [];
    const times: number[] = [];
    for (let i = 0; i < t.cursors.length; i++) {
      if ((t.cursors[i] as number) > settled) {
        cursors.push(t.cursors[i] as number);
        times.push(t.times[i] as number);
      }
    }
    t.cursors = cursors;
    t.times = times;
  }
  const last = t.cursors[t.cursors.length - 1] ?? 0;
  for (let i = TICK_FIXED_FIELDS; i + 1 < reply.length; i += 2) {
    const cursor = reply[i] as number;
    if (cursor > last) {
      t.cursors.push(cursor);
      t.times.push(reply[i + 1] as number);
    }
  }
}

/** {admitted, length, unitsLeft, buyers, expired, settled, nowMs, epoch} precede the admissions. */
const TICK_FIXED_FIELDS = 8;

/** The script's ARGV by name, and its KEYS: one table per call. */
interface TickCall extends Named<(typeof QUEUE_TICK.args)[number], string | number> {
  keys: SaleKeys;
}

function runTick(this: void, red: RestyRedis, _runId: string, asking: boolean, p: TickCall): LuaMultiReturn<[unknown, string | undefined]> {
  return runScript(red, tickScript as NonNullable<typeof tickScript>, p.keys, p, asking);
}

/** One queue-tick on the node serving the sale (its slot). */
function tickOne(c: CachedSale): string | undefined {
  const room = c.sale.waitingRoom;
  if (room === undefined) return undefined;
  // The admissions after the last one known, of the epoch known (all of them after a rebuild).
  const t = timelines.get(c.sale.id);
  const known = t === undefined ? 0 : (t.cursors[t.cursors.length - 1] ?? 0);
  const knownEpoch = t === undefined ? 0 : t.epoch;
  const [res, err] = callSlot(c.slot, runTick, {
    keys: c.keys,
    admitPerSecond: room.admitPerSecond,
    passAndGraceMs: string.format("%d", room.passSeconds * 1000 + SETTLE_GRACE_MS),
    knownCursor: string.format("%d", known),
    knownEpoch: string.format("%d", knownEpoch),
  });
  const decoded = typeof res === "object" ? QUEUE_TICK.decode(res) : undefined;
  if (decoded === undefined) return "queue-tick of sale '" + c.sale.id + "': " + tostring(err);
  if (decoded.reply === "not_built") return undefined; // not built (or no stock) yet: the publish is on its way
  const reply = decoded.values;
  const [admitted, length, left, buyers, expired, settled, now, epoch] = [reply[0], reply[1], reply[2], reply[3], reply[4], reply[5], reply[6], reply[7]];
  keepTimeline(c.sale.id, epoch as number, reply, settled as number);
  const d = queueDict();
  const [storedAt] = d.get(stateTimeKey(c.sale.id));
  if (typeof storedAt === "number" && storedAt > (now as number)) return undefined;
  const [ok, setErr] = d.set(stateKey(c.sale.id), string.format("%d %d %d %d %d %d %d %d", admitted, settled, left, length, buyers, expired, now, epoch));
  if (!ok) return "fs_queue dict: " + tostring(setErr);
  d.set(stateTimeKey(c.sale.id), now as number);
  return undefined;
}

/** One sync round for the sales whose queue is open (from opensAt to endsAt); the first error, if any. */
export function syncQueues(sales: CachedSale[], nowMs: number): string | undefined {
  for (const c of sales) {
    const room = c.sale.waitingRoom;
    if (room !== undefined && nowMs >= queueOpensAtMs(c.sale, room) && nowMs < c.sale.endsAtMs) {
      const err = tickOne(c);
      if (err !== undefined) return err;
    }
  }
  return undefined;
}
