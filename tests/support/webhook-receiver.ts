/**
 * A shop's webhook endpoint for the tests: node:http, answering each request as `mode` says
 * (2xx, 500, no answer, slowly, or held until the test releases it), recording every request
 * with whether the standardwebhooks library verifies its signature with each secret held.
 */
import { createServer, type IncomingMessage, type Server, type ServerResponse } from "node:http";
import type { AddressInfo, Socket } from "node:net";
import { Webhook } from "standardwebhooks";

/** hang: never answered (the dispatcher's timeout or a cut ends it); hold: answered 2xx at release(). */
export type Mode = "ok" | "error" | "hang" | "slow" | "hold";

export interface Received {
  id: string;
  type: string;
  data: { orderId?: string; saleId: string; [k: string]: unknown };
  at: number;
  /** Verified with each secret the receiver holds. */
  verified: boolean[];
  mode: Mode;
  /** When a 2xx was sent; undefined otherwise. */
  okAt?: number;
}

export class Receiver {
  readonly received: Received[] = [];
  mode: (id: string, attempt: number) => Mode = () => "ok";
  secrets: string[] = [];
  private readonly sockets = new Set<Socket>();
  private readonly held: (() => void)[] = [];
  /** Requests by webhook id: a benchmark's tens of thousands are not scanned at each request. */
  private readonly counts = new Map<string, number>();
  private server: Server;
  port = 0;

  constructor() {
    this.server = this.makeServer();
  }

  get url(): string {
    return `http://127.0.0.1:${this.port}/hooks`;
  }

  private makeServer(): Server {
    const server = createServer((req, res) => this.handle(req, res));
    server.on("connection", (s) => {
      this.sockets.add(s);
      s.on("close", () => this.sockets.delete(s));
    });
    return server;
  }

  async listen(): Promise<void> {
    await new Promise<void>((resolve) => this.server.listen(this.port, "127.0.0.1", resolve));
    this.port = (this.server.address() as AddressInfo).port;
  }

  /** Down: nothing listens (connections refused), and the requests held are cut. */
  async down(): Promise<void> {
    const closed = new Promise<void>((resolve) => this.server.close(() => resolve()));
    for (const s of this.sockets) s.destroy();
    await closed;
    this.server = this.makeServer();
  }

  /** Cuts the requests held (hang mode) without stopping to listen. */
  dropHeld(): void {
    for (const s of this.sockets) s.destroy();
  }

  /** Requests waiting in hold mode. */
  holding(): number {
    return this.held.length;
  }

  /** Answers 2xx to every request held in hold mode; answers how many. */
  release(): number {
    const held = this.held.splice(0);
    for (const answer of held) answer();
    return held.length;
  }

  attempts(id: string): number {
    return this.counts.get(id) ?? 0;
  }

  /** Webhook ids answered 2xx at least once. */
  accepted(): Set<string> {
    return new Set(this.received.filter((r) => r.okAt !== undefined).map((r) => r.id));
  }

  private handle(req: IncomingMessage, res: ServerResponse): void {
    const chunks: Buffer[] = [];
    req.on("data", (c: Buffer) => chunks.push(c));
    req.on("end", () => {
      const body = Buffer.concat(chunks).toString("utf8");
      const headers = {
        "webhook-id": String(req.headers["webhook-id"]),
        "webhook-timestamp": String(req.headers["webhook-timestamp"]),
        "webhook-signature": String(req.headers["webhook-signature"]),
      };
      const verified = this.secrets.map((secret) => {
        try {
          new Webhook(secret).verify(body, headers);
          return true;
        } catch {
          return false;
        }
      });
      const parsed = JSON.parse(body) as { type: string; data: Received["data"] };
      const id = headers["webhook-id"];
      const mode = this.mode(id, this.attempts(id));
      const r: Received = { id, type: parsed.type, data: parsed.data, at: Date.now(), verified, mode };
      this.received.push(r);
      this.counts.set(id, this.attempts(id) + 1);
      const ok = () => {
        // The dispatcher gave up on it (its timeout): no 2xx reaches it.
        if (res.destroyed) return;
        r.okAt = Date.now();
        res.writeHead(204).end();
      };
      if (mode === "ok") ok();
      else if (mode === "error") res.writeHead(500).end("boom");
      else if (mode === "slow") setTimeout(ok, 300);
      else if (mode === "hold") this.held.push(ok);
      // hang: no answer; the dispatcher's timeout (or a cut) ends it.
    });
  }
}

/** For each order: requests of its later events sent before its order.confirmed was answered 2xx. */
export function outOfOrder(r: Receiver, orderIds: Iterable<string>): string[] {
  const late: string[] = [];
  for (const orderId of orderIds) {
    const mine = r.received.filter((x) => x.data.orderId === orderId);
    const confirmedOk = mine.filter((x) => x.type === "order.confirmed" && x.okAt !== undefined).map((x) => x.okAt!);
    const firstOk = Math.min(...confirmedOk);
    for (const x of mine) if (x.type !== "order.confirmed" && !(x.at >= firstOk)) late.push(`${orderId} ${x.type}`);
  }
  return late;
}

/** Requests whose signature did not verify with every secret the receiver holds. */
export function unverified(r: Receiver): Received[] {
  return r.received.filter((x) => !x.verified.every(Boolean));
}
