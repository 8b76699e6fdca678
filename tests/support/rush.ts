/**
 * A rush of distinct shoppers through the real gateway, counted the Jepsen way: every 202 the
 * client saw is recorded (shopper, order id, when), and every shopper told that their order
 * may have been taken (a 503 whose outcome Redis did not tell), so a test can count afterwards
 * what survived in Redis and Postgres. Each shopper tries once; a loop stops at the first
 * sold_out (410) it sees, or when stopped.
 */
import { purchase } from "./http";
import { signToken } from "./tokens";

export interface Accepted {
  user: string;
  orderId: string;
  /** Date.now() when the 202 arrived. */
  at: number;
}

/** After an answer that is neither 202 nor 410 (a 503 while Redis is away or the sale held). */
const PAUSE_AFTER_REFUSAL_MS = 20;

export class Rush {
  readonly accepted: Accepted[] = [];
  /** Shoppers answered 503 "may have been taken": their order may exist. */
  readonly maybeTaken = new Set<string>();
  /** Answers other than 202 by status (0: the request failed). */
  readonly refused = new Map<number, number>();
  private next = 0;
  private stopped = false;
  private loops: Promise<void>[] = [];

  constructor(
    private readonly gatewayUrl: string,
    private readonly saleId: string,
    private readonly userPrefix: string,
    private readonly concurrency = 8,
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

  private async loop(): Promise<void> {
    while (!this.stopped) {
      const user = `${this.userPrefix}-${this.next++}`;
      let status = 0;
      try {
        const res = await purchase(this.gatewayUrl, this.saleId, signToken(user));
        status = res.status;
        if (status === 202) {
          this.accepted.push({ user, orderId: res.json().orderId as string, at: Date.now() });
          continue;
        }
        if (status === 410 && res.json().error === "sold_out") return;
        if (status === 503 && /may have been taken/.test(String(res.json().message))) this.maybeTaken.add(user);
      } catch {
        // A connection the gateway dropped: counted as status 0.
      }
      this.refused.set(status, (this.refused.get(status) ?? 0) + 1);
      await new Promise((r) => setTimeout(r, PAUSE_AFTER_REFUSAL_MS));
    }
  }
}
