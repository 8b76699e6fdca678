/**
 * A rush of distinct shoppers through the real gateway, counted the Jepsen way: every 202 the
 * client saw is recorded (shopper, order id, when), and every shopper told that their order
 * may have been taken (a 503 with orderMayExist) or who got no answer, so a test can count afterwards
 * what survived in Redis and Postgres. Each shopper tries once; a loop stops at the first
 * sold_out (410) it sees, or when stopped.
 *
 * A test that stops a rush, or injects a fault, at a count must not depend on how fast this
 * machine is: `maxAccepted` holds new purchases while the 202s and the purchases in flight reach
 * it, and `perSecond` paces the starts of all loops together.
 */
import type { Pool } from "@flash-sale/node-common";
import { orderIdsOf, purchase, type HttpResponse } from "./http";
import { signToken } from "./tokens";

export interface Accepted {
  user: string;
  orderId: string;
  /** Date.now() when the 202 arrived. */
  at: number;
}

/**
 * A pace for a fault test's rush: a sale of 2,000–3,000 units lasts 5–7.5 s at it, so a fault
 * injected after a few hundred 202s comes mid-rush on a machine of any speed (unpaced, a fast one
 * sells out first).
 */
export const MID_RUSH_PER_SECOND = 400;

/** After an answer that is neither 202 nor 410 (a 503 while Redis is away or the sale held). */
const PAUSE_AFTER_REFUSAL_MS = 20;

/** While held at maxAccepted: a purchase in flight may still be refused and free its place. */
const HELD_RECHECK_MS = 5;

export interface RushBounds {
  /** At most this many 202s: no purchase starts while the 202s and those in flight reach it. */
  maxAccepted?: number;
  /** Purchases started per second, over all loops. */
  perSecond?: number;
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

export class Rush {
  readonly accepted: Accepted[] = [];
  /** Shoppers answered 503 with orderMayExist ("may have been taken"): their order may exist. */
  readonly maybeTaken = new Set<string>();
  /** Shoppers whose request failed without an answer (a connection dropped): their order may exist too. */
  readonly dropped = new Set<string>();
  /** Answers other than 202 by status (0: the request failed). */
  readonly refused = new Map<number, number>();
  /** The longest a purchase waited for its answer (or its failure), ms. */
  slowestMs = 0;
  private next = 0;
  private stopped = false;
  private loops: Promise<void>[] = [];
  private inFlight = 0;
  /** Date.now() at which the next paced purchase may start. */
  private nextStartAt = 0;

  constructor(
    private readonly gatewayUrl: string,
    private readonly saleId: string,
    private readonly userPrefix: string,
    private readonly concurrency = 8,
    private readonly bounds: RushBounds = {},
  ) {}

  start(): this {
    this.loops = Array.from({ length: this.concurrency }, () => this.loop());
    return this;
  }

  /** Resolves when every loop has seen sold_out (or stop() was called). */
  finished(): Promise<void> {
    return Promise.all(this.loops).then(() => undefined);
  }

  async stop(): Promise<void> {
    this.stopped = true;
    await this.finished();
  }

  /** Waits until `check()` holds, or throws after timeoutMs (the rush goes on either way). */
  async until(what: string, check: () => boolean | Promise<boolean>, timeoutMs = 30_000): Promise<void> {
    const deadline = Date.now() + timeoutMs;
    while (!(await check())) {
      if (Date.now() > deadline) throw new Error(`rush: timed out after ${timeoutMs} ms waiting for ${what} (${this.accepted.length} accepted)`);
      await new Promise((r) => setTimeout(r, 20));
    }
  }

  /** Waits for the pace; false while maxAccepted holds new purchases. */
  private async mayStart(): Promise<boolean> {
    const { maxAccepted, perSecond } = this.bounds;
    if (maxAccepted !== undefined && this.accepted.length + this.inFlight >= maxAccepted) {
      await sleep(HELD_RECHECK_MS);
      return false;
    }
    if (perSecond !== undefined) {
      const now = Date.now();
      const startAt = Math.max(now, this.nextStartAt);
      this.nextStartAt = startAt + 1000 / perSecond;
      if (startAt > now) await sleep(startAt - now);
    }
    return !this.stopped;
  }

  private async loop(): Promise<void> {
    while (!this.stopped) {
      if (!(await this.mayStart())) continue;
      const user = `${this.userPrefix}-${this.next++}`;
      this.inFlight++;
      let res: HttpResponse | undefined;
      const startedAt = Date.now();
      try {
        res = await purchase(this.gatewayUrl, this.saleId, signToken(user));
      } catch {
        // A connection the gateway dropped: counted as status 0.
      }
      this.slowestMs = Math.max(this.slowestMs, Date.now() - startedAt);
      // No await between here and the 202's count: another loop sees both at once.
      this.inFlight--;
      let status = res?.status ?? 0;
      try {
        if (res !== undefined && status === 202) {
          this.accepted.push({ user, orderId: res.json().orderId as string, at: Date.now() });
          continue;
        }
        if (res !== undefined && status === 410 && res.json().error === "sold_out") return;
        if (res === undefined) this.dropped.add(user);
        if (res !== undefined && status === 503 && res.json().orderMayExist === true) this.maybeTaken.add(user);
      } catch {
        status = 0; // not JSON
      }
      this.refused.set(status, (this.refused.get(status) ?? 0) + 1);
      await sleep(PAUSE_AFTER_REFUSAL_MS);
    }
  }
}

/** A sale's orders in Postgres against what its rush's shoppers were told (tallyRush). */
export interface RushTally {
  /** 202s whose order is not in Postgres as their shopper's. */
  lost: Accepted[];
  /** Order ids answered 202 to more than one purchase. */
  reusedIds: string[];
  /** Orders in Postgres without a 202. */
  untold: { orderId: string; user: string }[];
  /** Those whose shopper was told nothing was sold: neither "may have been taken" nor a lost answer. */
  unexplained: { orderId: string; user: string }[];
  /** Untold orders that their shopper's GET /api/orders does not list as their only one. */
  unlisted: { orderId: string; user: string; listed: string[] }[];
}

/** Counts the way Jepsen does, after the drain: every 202 against what survived, and every order without one. */
export async function tallyRush(pool: Pool, saleId: string, rush: Rush, gatewayUrl: string): Promise<RushTally> {
  const { rows } = await pool.query<{ order_id: string; user_id: string }>("SELECT order_id, user_id FROM orders WHERE sale_id = $1", [saleId]);
  const owners = new Map(rows.map((r) => [r.order_id, r.user_id]));
  const seen = new Set<string>();
  const reusedIds = rush.accepted.filter((a) => seen.has(a.orderId) || !seen.add(a.orderId)).map((a) => a.orderId);
  const untold = rows.filter((r) => !seen.has(r.order_id)).map((r) => ({ orderId: r.order_id, user: r.user_id }));
  const unlisted: RushTally["unlisted"] = [];
  for (const o of untold) {
    const listed = await orderIdsOf(gatewayUrl, signToken(o.user));
    if (listed.length !== 1 || listed[0] !== o.orderId) unlisted.push({ ...o, listed });
  }
  return {
    lost: rush.accepted.filter((a) => owners.get(a.orderId) !== a.user),
    reusedIds,
    untold,
    unexplained: untold.filter((o) => !rush.maybeTaken.has(o.user) && !rush.dropped.has(o.user)),
    unlisted,
  };
}
