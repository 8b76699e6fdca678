/** A shopper in a sale's waiting room, through the gateway's API (POST/GET /api/sales/{id}/queue). */
import { purchase, request, type HttpResponse } from "./http";
import type { QueueReply } from "@flash-sale/contract/waiting_room";
import { signToken } from "./tokens";


export function joinQueue(gatewayUrl: string, saleId: string, token: string): Promise<HttpResponse> {
  return request(`${gatewayUrl}/api/sales/${saleId}/queue`, { method: "POST", headers: { Authorization: `Bearer ${token}` } });
}

export function pollQueue(gatewayUrl: string, saleId: string, token: string, ticket?: string): Promise<HttpResponse> {
  const query = ticket === undefined ? "" : `?ticket=${encodeURIComponent(ticket)}`;
  return request(`${gatewayUrl}/api/sales/${saleId}/queue${query}`, { headers: { Authorization: `Bearer ${token}` } });
}

/** A shopper who keeps the last ticket and pass the gateway gave. */
export class Shopper {
  readonly token: string;
  ticket: string | undefined;
  last: QueueReply | undefined;

  constructor(
    readonly user: string,
    private readonly saleId: string,
    private gatewayUrl: string,
  ) {
    this.token = signToken(user);
  }

  /** Polls (and later joins) through another gateway of the fleet. */
  via(gatewayUrl: string): this {
    this.gatewayUrl = gatewayUrl;
    return this;
  }

  async join(): Promise<QueueReply> {
    return this.keep(await joinQueue(this.gatewayUrl, this.saleId, this.token));
  }

  async poll(): Promise<QueueReply> {
    return this.keep(await pollQueue(this.gatewayUrl, this.saleId, this.token, this.ticket));
  }

  buy(pass: string | undefined = this.last?.pass): Promise<HttpResponse> {
    return purchase(this.gatewayUrl, this.saleId, this.token, pass === undefined ? { quantity: 1 } : { quantity: 1, pass });
  }

  private keep(res: HttpResponse): QueueReply {
    if (res.status !== 200) throw new Error(`${this.user}: queue answered ${res.status} ${res.text}`);
    const reply = res.json() as QueueReply;
    if (reply.ticket !== undefined) this.ticket = reply.ticket;
    this.last = reply;
    return reply;
  }
}

/** Spearman's rank correlation of two rankings of the same n items (no ties). */
export function spearman(a: number[], b: number[]): number {
  const n = a.length;
  const rank = (xs: number[]) => {
    const order = xs.map((x, i) => [x, i] as const).sort((p, q) => p[0] - q[0]);
    const r = new Array<number>(n);
    order.forEach(([, i], k) => (r[i] = k));
    return r;
  };
  const ra = rank(a);
  const rb = rank(b);
  let d2 = 0;
  for (let i = 0; i < n; i++) d2 += (ra[i]! - rb[i]!) ** 2;
  return 1 - (6 * d2) / (n * (n * n - 1));
}

export const sleep = (ms: number) => new Promise<void>((r) => setTimeout(r, ms));
