/**
 * Redis Cluster routing, pure: the slot of a key (CRC16 of its hash tag, as Redis computes
 * it), the slot map read from CLUSTER SLOTS, and the MOVED/ASK redirects. Keys are ASCII (sale
 * ids are slugs: ids.ts), so a character code is the byte Redis hashes in both runtimes.
 */
import { decimalValue, lastIndexOfCode } from "./text";

export const SLOT_COUNT = 16384;

/** CRC16-CCITT (XMODEM: polynomial 0x1021, initial 0), one entry per byte value. */
const CRC16_TABLE: number[] = [];
for (let i = 0; i < 256; i++) {
  let c = i << 8;
  for (let bit = 0; bit < 8; bit++) c = (c & 0x8000) !== 0 ? ((c << 1) ^ 0x1021) & 0xffff : (c << 1) & 0xffff;
  CRC16_TABLE.push(c);
}

export function crc16(s: string): number {
  let crc = 0;
  for (let i = 0; i < s.length; i++) {
    crc = ((crc << 8) & 0xffff) ^ (CRC16_TABLE[((crc >> 8) ^ s.charCodeAt(i)) & 0xff] as number);
  }
  return crc;
}

/** What Redis hashes: the part between the first "{" and the next "}" when not empty, else the key. */
export function hashTag(key: string): string {
  const open = key.indexOf("{");
  if (open === -1) return key;
  const close = key.indexOf("}", open + 1);
  if (close === -1 || close === open + 1) return key;
  return key.substring(open + 1, close);
}

export function keySlot(key: string): number {
  return crc16(hashTag(key)) % SLOT_COUNT;
}

/** Slot ranges sorted by start, each with its primary as "host:port". */
export interface SlotMap {
  starts: number[];
  ends: number[];
  owners: string[];
  /** Every primary and replica named, "host:port" each: where to ask next time. */
  nodes: string[];
}

function nodeOf(entry: unknown, askedHost: string): string | undefined {
  if (typeof entry !== "object" || entry === null) return undefined;
  const [host, port] = entry as unknown[];
  if (typeof host !== "string" || typeof port !== "number" || port <= 0) return undefined;
  // An empty host means "the address you reached me at" (CLUSTER SLOTS, Redis 7).
  return (host === "" || host === "?" ? askedHost : host) + ":" + port;
}

/**
 * Parses a CLUSTER SLOTS reply: [[start, end, [host, port, id, …], replica…], …]. Answers a
 * message when a range is malformed or the ranges leave a slot without a primary (the
 * cluster is not ready: keep the map in force).
 */
export function parseClusterSlots(reply: unknown, askedHost: string): SlotMap | string {
  if (typeof reply !== "object" || reply === null) return "CLUSTER SLOTS: not an array";
  const ranges = reply as unknown[];
  const map: SlotMap = { starts: [], ends: [], owners: [], nodes: [] };
  const seen = new Set<string>();
  for (const r of ranges) {
    if (typeof r !== "object" || r === null) return "CLUSTER SLOTS: bad range";
    const range = r as unknown[];
    const start = range[0];
    const end = range[1];
    const owner = nodeOf(range[2], askedHost);
    if (typeof start !== "number" || typeof end !== "number" || start > end || end >= SLOT_COUNT || owner === undefined) {
      return "CLUSTER SLOTS: bad range";
    }
    // Insertion by start: a reply has a few ranges, in no promised order.
    let i = map.starts.length;
    map.starts.push(start);
    map.ends.push(end);
    map.owners.push(owner);
    while (i > 0 && (map.starts[i - 1] as number) > start) {
      map.starts[i] = map.starts[i - 1] as number;
      map.ends[i] = map.ends[i - 1] as number;
      map.owners[i] = map.owners[i - 1] as string;
      i--;
    }
    map.starts[i] = start;
    map.ends[i] = end;
    map.owners[i] = owner;
    for (let j = 2; j < range.length; j++) {
      const node = nodeOf(range[j], askedHost);
      if (node !== undefined && !seen.has(node)) {
        seen.add(node);
        map.nodes.push(node);
      }
    }
  }
  let next = 0;
  for (let i = 0; i < map.starts.length; i++) {
    if (map.starts[i] !== next) return "CLUSTER SLOTS: slot " + next + " has no primary";
    next = (map.ends[i] as number) + 1;
  }
  if (next !== SLOT_COUNT) return "CLUSTER SLOTS: slot " + next + " has no primary";
  return map;
}

/** The primary serving `slot` (binary search over the ranges). */
export function slotOwner(map: SlotMap, slot: number): string | undefined {
  let lo = 0;
  let hi = map.starts.length - 1;
  while (lo <= hi) {
    const mid = Math.floor((lo + hi) / 2);
    if (slot < (map.starts[mid] as number)) hi = mid - 1;
    else if (slot > (map.ends[mid] as number)) lo = mid + 1;
    else return map.owners[mid];
  }
  return undefined;
}

export interface Redirect {
  /** MOVED: the slot has a new owner for good; ASK: for the next command only (resharding). */
  ask: boolean;
  slot: number;
  node: string;
}

/** Reads "MOVED <slot> <host:port>" or "ASK <slot> <host:port>" from an error reply. */
export function parseRedirect(err: string): Redirect | undefined {
  let ask: boolean;
  let rest: string;
  if (err.substring(0, 6) === "MOVED ") {
    ask = false;
    rest = err.substring(6);
  } else if (err.substring(0, 4) === "ASK ") {
    ask = true;
    rest = err.substring(4);
  } else {
    return undefined;
  }
  const space = rest.indexOf(" ");
  if (space <= 0) return undefined;
  const slot = wholeNumber(rest.substring(0, space));
  const node = rest.substring(space + 1);
  if (slot === undefined || slot >= SLOT_COUNT || parseNodeAddress(node) === undefined) return undefined;
  return { ask, slot, node };
}

/** A slot or a port: at most 5 digits. */
function wholeNumber(s: string): number | undefined {
  return decimalValue(s, 5);
}

export interface NodeAddress {
  host: string;
  port: number;
}

/** "host:port" (the last colon splits) → its parts, or undefined. */
export function parseNodeAddress(node: string): NodeAddress | undefined {
  const colon = lastIndexOfCode(node, 58); // ":"
  if (colon <= 0) return undefined;
  const port = wholeNumber(node.substring(colon + 1));
  if (port === undefined || port === 0 || port > 65535) return undefined;
  for (let i = 0; i < colon; i++) {
    const c = node.charCodeAt(i);
    if (c <= 32 || c > 126 || c === 44 /* "," */) return undefined;
  }
  return { host: node.substring(0, colon), port };
}

/** FS_REDIS_CLUSTER_NODES: "host:port,host:port,…" → the nodes, or a message saying what is wrong. */
export function parseClusterNodes(text: string): string[] | string {
  const nodes: string[] = [];
  let from = 0;
  while (from <= text.length) {
    let comma = text.indexOf(",", from);
    if (comma === -1) comma = text.length;
    const node = text.substring(from, comma);
    if (parseNodeAddress(node) === undefined) return "FS_REDIS_CLUSTER_NODES: '" + node + "' is not host:port";
    nodes.push(node);
    from = comma + 1;
  }
  return nodes;
}
