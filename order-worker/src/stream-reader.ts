/**
 * Reads the published sales' streams through the consumer group — each sale's order stream and
 * its status change stream (same hash tag, same slot) — in this order of
 * preference: this consumer's own pending entries (left by an earlier run under the same
 * name), entries left unacknowledged for too long (their consumer died, or Postgres refused
 * their row: XAUTOCLAIM; every pending entry at once after the connection came back, a Redis
 * restarted from its AOF), then new entries, blocking. One call returns one batch.
 *
 * On a Redis Cluster one XREADGROUP may only name streams of one slot: the reader sends one per
 * slot (each sale has its own), and polls instead of blocking (see readNew). A sale in stock
 * buckets has a pair of streams per bucket, each on its bucket's slot.
 */
import { setTimeout as sleep } from "node:timers/promises";
import { keySlot } from "@flash-sale/contract/cluster";
import { bucketKeysOf, SALE_CONFIGS_KEY } from "@flash-sale/contract/keys";
import type { Logger, Redis } from "@flash-sale/node-common";
import type { EntrySource, RawEntry } from "./raw-entry";

/** How often the list of published sales is read again. */
const SALES_REFRESH_MS = 3000;
/** Claim rounds run every FS_WORKER_CLAIM_IDLE_MS, but not on every read when it is 0. */
const MIN_CLAIM_INTERVAL_MS = 100;
/** Cluster: the pause after a round of reads that found nothing new, at most FS_WORKER_BLOCK_MS. */
const CLUSTER_POLL_MS = 50;

export interface ReaderOptions {
  group: string;
  consumer: string;
  batchSize: number;
  blockMs: number;
  claimIdleMs: number;
}

export class StreamReader {
  /** Stream key → its sale (and stock bucket) and what it carries, for the published sales. */
  private streams = new Map<string, StreamOwner>();
  /** The streams one XREADGROUP may name together: all of them on one Redis, one slot's on a cluster. */
  private slotGroups: string[][] = [];
  private refreshDueAt = 0;
  /** Stream → id after which this consumer's own pending entries are still to be re-read. */
  private readonly ownPending = new Map<string, string>();
  /** Stream → XAUTOCLAIM cursor, while a claim round is in progress. */
  private readonly claimCursors = new Map<string, string>();
  /** The claim round in progress takes entries idle this long. */
  private claimMinIdleMs = 0;
  private claimDueAt: number;
  /** The connection came back since the last claim of every pending entry. */
  private reconnected = false;

  constructor(
    private readonly redis: Redis,
    private readonly opts: ReaderOptions,
    private readonly logger: Logger,
  ) {
    this.claimDueAt = Date.now() + opts.claimIdleMs;
    // A Redis restarted from its AOF holds pending entries that no worker has in hand any more
    // (read, or acknowledged, by replies the old process never sent): they are claimed at once,
    // not claimIdleMs after their last delivery. The first connection is no return.
    let connected = redis.status === "ready";
    redis.on("ready", () => {
      if (connected) this.reconnected = true;
      connected = true;
    });
  }

  /** After a failed read: list the sales and create their groups again (Redis may have restarted empty). */
  invalidate(): void {
    this.refreshDueAt = 0;
  }

  /**
   * `heldForMs`: how long the oldest batch this consumer still has in hand was read ago
   * (negative: none in hand). While it is past the claim idle time, no claim round runs: it
   * would take that batch's own entries back (counting a delivery each time) and write them a
   * second time alongside. After the connection came back, every pending entry is claimed, once
   * no batch is in hand.
   */
  async next(heldForMs = 0): Promise<RawEntry[]> {
    const now = Date.now();
    if (now >= this.refreshDueAt) await this.refresh();
    if (this.streams.size === 0) {
      await sleep(Math.max(this.opts.blockMs, 100));
      return [];
    }
    if (this.ownPending.size > 0) return this.readOwnPending();
    if (this.reconnected && heldForMs < 0) {
      this.reconnected = false;
      this.logger.info("Redis connection back: claiming the group's pending entries at once");
      this.startClaimRound(0, now);
    }
    if (heldForMs < this.opts.claimIdleMs) {
      if (this.claimCursors.size === 0 && now >= this.claimDueAt) this.startClaimRound(this.opts.claimIdleMs, now);
      if (this.claimCursors.size > 0) return this.claimIdle();
    }
    return this.readNew();
  }

  /** A claim round over every stream, from its start, of the entries idle `minIdleMs`. */
  private startClaimRound(minIdleMs: number, now: number): void {
    for (const stream of this.streams.keys()) this.claimCursors.set(stream, "0-0");
    this.claimMinIdleMs = minIdleMs;
    this.claimDueAt = now + Math.max(this.opts.claimIdleMs, MIN_CLAIM_INTERVAL_MS);
  }

  private async refresh(): Promise<void> {
    const configs = await this.redis.hgetall(SALE_CONFIGS_KEY);
    const streams = new Map<string, StreamOwner>();
    for (const [saleId, json] of Object.entries(configs)) {
      const buckets = bucketsOf(json);
      bucketKeysOf(saleId, buckets).forEach((k, bucket) => {
        streams.set(k.stream, { saleId, source: "orders", bucket, buckets });
        streams.set(k.statusChanges, { saleId, source: "statuses", bucket, buckets });
      });
    }
    // Every time, not only for new sales: a restarted Redis has lost its groups.
    await Promise.all([...streams.keys()].map((s) => this.ensureGroup(s)));
    for (const [stream, { saleId, source }] of streams) {
      if (this.streams.has(stream)) continue;
      this.ownPending.set(stream, "0");
      if (source === "orders") this.logger.info({ sale: saleId, stream }, "reading sale's order stream");
    }
    for (const stream of this.streams.keys()) {
      if (streams.has(stream)) continue;
      this.ownPending.delete(stream);
      this.claimCursors.delete(stream);
      this.logger.info({ sale: this.streams.get(stream)?.saleId, stream }, "sale no longer published; stopped reading its stream");
    }
    this.streams = streams;
    this.slotGroups = this.redis.isCluster ? groupBySlot([...streams.keys()]) : [[...streams.keys()]];
    this.refreshDueAt = Date.now() + SALES_REFRESH_MS;
  }

  private async ensureGroup(stream: string): Promise<void> {
    try {
      await this.redis.call("XGROUP", ["CREATE", stream, this.opts.group, "0", "MKSTREAM"]);
    } catch (err) {
      if (!(err instanceof Error) || !err.message.startsWith("BUSYGROUP")) throw err;
    }
  }

  private async readOwnPending(): Promise<RawEntry[]> {
    const groups = this.slotGroups.map((g) => g.filter((s) => this.ownPending.has(s))).filter((g) => g.length > 0);
    const replies = await Promise.all(groups.map((streams) => this.readGroup(streams, streams.map((s) => this.ownPending.get(s) as string))));
    const entries = replies.flatMap((reply) => this.entriesOf(reply));
    for (const stream of groups.flat()) {
      const last = entries.filter((e) => e.stream === stream).pop();
      if (last === undefined) this.ownPending.delete(stream);
      else this.ownPending.set(stream, last.id);
    }
    if (entries.length > 0) this.logger.info({ entries: entries.length }, "re-reading this consumer's pending entries");
    return entries;
  }

  private async claimIdle(): Promise<RawEntry[]> {
    const [stream, cursor] = this.claimCursors.entries().next().value as [string, string];
    const reply = await this.redis.call("XAUTOCLAIM", [
      stream, this.opts.group, this.opts.consumer, this.claimMinIdleMs, cursor, "COUNT", this.opts.batchSize,
    ]);
    if (!Array.isArray(reply) || typeof reply[0] !== "string") throw new Error("XAUTOCLAIM: unexpected reply");
    if (reply[0] === "0-0") this.claimCursors.delete(stream);
    else this.claimCursors.set(stream, reply[0]);
    const entries = this.entryList(stream, reply[1]);
    if (entries.length > 0) {
      this.logger.info({ sale: this.streams.get(stream)?.saleId, stream, entries: entries.length }, "claimed entries left pending too long");
    }
    return entries;
  }

  private async readNew(): Promise<RawEntry[]> {
    const [only] = this.slotGroups;
    if (this.slotGroups.length === 1 && only !== undefined) {
      // BLOCK 0 would wait forever: no sale refresh, no claims, no prompt shutdown.
      return this.entriesOf(await this.readGroup(only, only.map(() => ">"), Math.max(this.opts.blockMs, 1)));
    }
    // A blocking read covers one slot and holds its node's connection until it returns, so the
    // reads of the other sales on that node would wait behind it: read all without blocking,
    // and pause when none had anything.
    const replies = await Promise.all(this.slotGroups.map((streams) => this.readGroup(streams, streams.map(() => ">"))));
    const entries = replies.flatMap((reply) => this.entriesOf(reply));
    if (entries.length === 0) await sleep(Math.min(CLUSTER_POLL_MS, this.opts.blockMs));
    return entries;
  }

  /** One XREADGROUP of `streams` (one slot's on a cluster) after `ids`, blocking `blockMs` when given. */
  private readGroup(streams: string[], ids: string[], blockMs?: number): Promise<unknown> {
    return this.redis.call("XREADGROUP", [
      "GROUP", this.opts.group, this.opts.consumer,
      "COUNT", this.opts.batchSize,
      ...(blockMs === undefined ? [] : ["BLOCK", blockMs]),
      "STREAMS", ...streams, ...ids,
    ]);
  }

  /** XREADGROUP's reply: null, or [[stream, [[id, fields | null], …]], …]. */
  private entriesOf(reply: unknown): (RawEntry & { stream: string })[] {
    if (reply === null) return [];
    if (!Array.isArray(reply)) throw new Error("XREADGROUP: unexpected reply");
    return reply.flatMap((item: unknown) => {
      if (!Array.isArray(item) || typeof item[0] !== "string") throw new Error("XREADGROUP: unexpected reply");
      return this.entryList(item[0], item[1]);
    });
  }

  private entryList(stream: string, list: unknown): (RawEntry & { stream: string })[] {
    const known = this.streams.get(stream);
    if (known === undefined || !Array.isArray(list)) throw new Error(`unexpected entries for ${stream}`);
    const { saleId, source, bucket, buckets } = known;
    return list.map((e: unknown) => {
      if (!Array.isArray(e) || typeof e[0] !== "string") throw new Error(`unexpected entry in ${stream}`);
      const fields = Array.isArray(e[1]) && e[1].every((f) => typeof f === "string") ? (e[1] as string[]) : null;
      return { stream, saleId, source, bucket, buckets, id: e[0], fields };
    });
  }
}

interface StreamOwner {
  saleId: string;
  source: EntrySource;
  bucket: number;
  buckets: number;
}

/** The stock buckets of a published config record (core/sale.ts); 1 when it names none or cannot be read. */
function bucketsOf(json: string): number {
  try {
    const n = (JSON.parse(json) as { stockBuckets?: unknown }).stockBuckets;
    return typeof n === "number" && Number.isInteger(n) && n >= 1 ? n : 1;
  } catch {
    return 1;
  }
}

function groupBySlot(streams: string[]): string[][] {
  const bySlot = new Map<number, string[]>();
  for (const stream of streams) {
    const slot = keySlot(stream);
    bySlot.set(slot, [...(bySlot.get(slot) ?? []), stream]);
  }
  return [...bySlot.values()];
}
