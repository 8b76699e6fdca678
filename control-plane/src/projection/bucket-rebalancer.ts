/**
 * Moves units between the stock buckets of a sale (core/buckets.ts) so none is stranded: a
 * shopper buys from one bucket only, and a bucket whose shoppers came more than the others'
 * runs dry first. Buckets whose shoppers were refused (purchase.lua counts them in `wants`)
 * get units from the others; once every bucket is empty the sale is sold out (`shared` = "0"
 * in every bucket's meta: from then on the purchase script answers sold out, not 503).
 *
 * The buckets are on different slots, so a move is two steps (redis-scripts/sale/bucket-transfer-out.lua
 * on the source: take the units and record the move; bucket-transfer-in.lua on the target: add
 * them once per move id), and a run first finishes every move a crash left half done. Units in
 * flight are the ones a source recorded and its target has not applied: the sale's inventory is
 * Σ left + Σ sold + in flight = total. A rebuild (sale-builder.ts) drops the records and counts
 * the units again from the orders; a move's second step then refuses the old epoch.
 */
import { randomUUID } from "node:crypto";
import { RedisScript, type Logger, type Redis } from "@flash-sale/node-common";
import { evenShares } from "@flash-sale/contract/buckets";
import { bucketKeysOf, type SaleKeys } from "@flash-sale/contract/keys";
import { BUCKET_TRANSFER_IN, BUCKET_TRANSFER_OUT } from "@flash-sale/contract/scripts/sale";
import { unhandledReply } from "@flash-sale/contract/scripts/script";
import { readBuildState } from "./sale-builder";

const TRANSFER_OUT = RedisScript.load(BUCKET_TRANSFER_OUT);
const TRANSFER_IN = RedisScript.load(BUCKET_TRANSFER_IN);

export interface BucketedSale {
  id: string;
  stockBuckets: number;
  perUserLimit: number;
}

export interface BucketReading {
  stock: number;
  /** Shoppers refused by this bucket since the last run (purchase.lua's reply 10). */
  wants: number;
  shared: boolean;
}

export interface Move {
  from: number;
  to: number;
  units: number;
}

export interface RebalanceResult {
  /** Moves left half done by an earlier run, now finished (or found void after a rebuild). */
  finished: number;
  moves: Move[];
  unitsMoved: number;
  /** Set when this run found every bucket empty and marked the sale sold out. */
  soldOut: boolean;
  /** A bucket is held (not built on this Redis process): nothing moved. */
  held: boolean;
}

/**
 * Where the units should be: nothing moves while no bucket turns shoppers away. Then the units
 * left are split evenly over all buckets, or, when too few are left for every bucket to serve a
 * shopper's limit, over the buckets whose shoppers were refused.
 */
export function planMoves(buckets: BucketReading[], perUserLimit: number): Move[] {
  const hungry = buckets.map((b, i) => (b.wants > 0 && b.stock < perUserLimit ? i : -1)).filter((i) => i >= 0);
  if (hungry.length === 0) return [];
  const left = buckets.reduce((n, b) => n + b.stock, 0);
  const targets = buckets.map(() => 0);
  if (left >= buckets.length * perUserLimit) evenShares(left, buckets.length).forEach((n, i) => (targets[i] = n));
  else evenShares(left, hungry.length).forEach((n, j) => (targets[hungry[j]!] = n));
  const surplus = buckets.map((b, i) => b.stock - targets[i]!);
  const moves: Move[] = [];
  for (let to = 0; to < buckets.length; to++) {
    for (let from = 0; from < buckets.length && surplus[to]! < 0; from++) {
      const units = Math.min(surplus[from]!, -surplus[to]!);
      if (units <= 0) continue;
      moves.push({ from, to, units });
      surplus[from]! -= units;
      surplus[to]! += units;
    }
  }
  return moves;
}

interface OpenTransfer {
  id: string;
  from: number;
  to: number;
  units: number;
  epoch: string;
}

/** The moves recorded on their source buckets and not yet dropped (HGETALL: a few entries at most). */
async function openTransfers(redis: Redis, all: SaleKeys[]): Promise<OpenTransfer[]> {
  const records = await Promise.all(all.map((k) => redis.hgetall(k.transfers)));
  return records.flatMap((fields, from) =>
    Object.entries(fields)
      .filter(([field]) => field.startsWith("out:"))
      .map(([field, value]) => {
        const [to, units, epoch] = value.split(" ");
        return { id: field.slice(4), from, to: Number(to), units: Number(units), epoch: epoch! };
      }),
  );
}

/** Units taken from a bucket and not yet added to another: part of the sale's inventory. */
export async function unitsInFlight(redis: Redis, saleId: string, buckets: number): Promise<number> {
  if (buckets <= 1) return 0;
  const all = bucketKeysOf(saleId, buckets);
  let units = 0;
  for (const t of await openTransfers(redis, all)) {
    if ((await redis.hexists(all[t.to]!.transfers, `in:${t.id}`)) === 0) units += t.units;
  }
  return units;
}

export class BucketRebalancer {
  constructor(
    private readonly redis: Redis,
    private readonly logger: Logger,
    /** Units moved between a sale's buckets by a run (fs_control_plane_bucket_units_moved_total). */
    private readonly onMoved: (saleId: string, units: number) => void = () => undefined,
  ) {}

  async rebalance(sale: BucketedSale): Promise<RebalanceResult> {
    const all = bucketKeysOf(sale.id, sale.stockBuckets);
    const result: RebalanceResult = { finished: 0, moves: [], unitsMoved: 0, soldOut: false, held: false };
    for (const t of await openTransfers(this.redis, all)) {
      if (!(await this.finish(all, t))) result.held = true;
      else result.finished += 1;
    }
    // A bucket not built on the process that answers (a failover, lost keys) may show units it
    // no longer has, or none it will have once rebuilt: nothing is judged until it is rebuilt.
    if (result.held || !(await readBuildState(this.redis, sale.id, sale.stockBuckets)).every((b) => b.built)) return { ...result, held: true };

    const readings = await Promise.all(all.map((k) => this.read(k)));
    const left = readings.reduce((n, b) => n + b.stock, 0);
    if (left === 0) {
      // Every unit is sold, none in flight: from now on an empty bucket answers sold out.
      if (readings.some((b) => b.shared)) {
        for (const k of all) await this.redis.hset(k.meta, "shared", "0");
        result.soldOut = true;
        this.logger.info({ saleId: sale.id }, "every stock bucket is empty: the sale is sold out");
      }
      return result;
    }
    for (const move of planMoves(readings, sale.perUserLimit)) {
      const moved = await this.move(all, move);
      if (moved === undefined) {
        result.held = true;
        break;
      }
      if (moved > 0) {
        result.moves.push({ ...move, units: moved });
        result.unitsMoved += moved;
      }
    }
    // The demand this run answered; refusals counted since then stay for the next run.
    await Promise.all(all.map((k, b) => (readings[b]!.wants > 0 ? this.redis.hincrby(k.meta, "wants", -readings[b]!.wants) : undefined)));
    if (result.unitsMoved > 0) {
      this.onMoved(sale.id, result.unitsMoved);
      this.logger.info({ saleId: sale.id, moves: result.moves }, "units moved between stock buckets");
    }
    return result;
  }

  private async read(k: SaleKeys): Promise<BucketReading> {
    const [stock, [wants, shared]] = await Promise.all([this.redis.get(k.stock), this.redis.hmget(k.meta, "wants", "shared")]);
    return { stock: Math.max(0, Number(stock ?? 0)), wants: Number(wants ?? 0), shared: shared === "1" };
  }

  /** Both steps; answers the units moved (0: none were left), undefined when a bucket is held. */
  private async move(all: SaleKeys[], move: Move): Promise<number | undefined> {
    const id = randomUUID();
    const source = all[move.from]!;
    const reply = await TRANSFER_OUT.run(this.redis, source, { transferId: id, toBucket: move.to, units: move.units });
    switch (reply.reply) {
      case "held":
        return undefined;
      case "none_left":
        return 0;
      case "taken": {
        const done = await this.finish(all, { id, from: move.from, to: move.to, units: reply.units, epoch: String(reply.epoch) });
        return done ? reply.units : undefined;
      }
      default:
        return unhandledReply(reply);
    }
  }

  /** The second step, then the source's record dropped; false when the target is held (the record stays). */
  private async finish(all: SaleKeys[], t: OpenTransfer): Promise<boolean> {
    const target = all[t.to]!;
    const reply = await TRANSFER_IN.run(this.redis, target, { transferId: t.id, units: t.units, epoch: t.epoch });
    switch (reply) {
      case "held":
        return false;
      case "rebuilt":
        this.logger.warn({ transfer: t }, "move between stock buckets void: the sale was rebuilt since its first step");
        break;
      case "applied":
      case "applied_before":
        break;
      default:
        return unhandledReply(reply);
    }
    await this.redis.hdel(all[t.from]!.transfers, `out:${t.id}`);
    return true;
  }
}
