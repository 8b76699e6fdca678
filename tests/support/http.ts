/** HTTP calls for tests: keepalive sockets, bounded concurrency, raw control over headers and body. */
import http from "node:http";
import { expectDocumented } from "./openapi";
import { signToken } from "./tokens";

export const agent = new http.Agent({ keepAlive: true, maxSockets: 64 });

export interface HttpResponse {
  status: number;
  headers: http.IncomingHttpHeaders;
  text: string;
  json(): any;
}

export interface HttpRequest {
  method?: string;
  headers?: Record<string, string>;
  body?: string | Buffer;
  /** Send the body chunked, without Content-Length. */
  chunked?: boolean;
  /** The client's address (any 127.x reaches a loopback listener). */
  localAddress?: string;
}

export function request(url: string, req: HttpRequest = {}): Promise<HttpResponse> {
  return new Promise((resolve, reject) => {
    const headers: Record<string, string | number> = { ...req.headers };
    if (req.body !== undefined && !req.chunked) headers["Content-Length"] = Buffer.byteLength(req.body);
    const r = http.request(url, { method: req.method ?? "GET", headers, agent, localAddress: req.localAddress }, (res) => {
      const chunks: Buffer[] = [];
      res.on("data", (c: Buffer) => chunks.push(c));
      res.on("end", () => {
        const text = Buffer.concat(chunks).toString("utf8");
        const status = res.statusCode ?? 0;
        try {
          expectDocumented(req.method ?? "GET", url, status, { contentType: res.headers["content-type"], server: res.headers.server?.toString() }, text);
        } catch (e) {
          reject(e as Error);
          return;
        }
        resolve({ status, headers: res.headers, text, json: () => JSON.parse(text) });
      });
      res.on("error", reject);
    });
    r.on("error", reject);
    if (req.body !== undefined) {
      if (req.chunked) {
        const buf = Buffer.from(req.body);
        const half = Math.floor(buf.length / 2);
        r.write(buf.subarray(0, half));
        r.write(buf.subarray(half));
      } else {
        r.write(req.body);
      }
    }
    r.end();
  });
}

export function purchase(gatewayUrl: string, saleId: string, token: string | undefined, body: unknown = { quantity: 1 }): Promise<HttpResponse> {
  const headers: Record<string, string> = { "Content-Type": "application/json" };
  if (token !== undefined) headers.Authorization = `Bearer ${token}`;
  return request(`${gatewayUrl}/api/sales/${saleId}/purchase`, { method: "POST", headers, body: JSON.stringify(body) });
}

/** The ids of the shopper's orders, as GET /api/orders lists them (newest first); throws on any answer but 200. */
export async function orderIdsOf(gatewayUrl: string, token: string): Promise<string[]> {
  const res = await request(`${gatewayUrl}/api/orders`, { headers: { Authorization: `Bearer ${token}` } });
  if (res.status !== 200) throw new Error(`GET /api/orders answered ${res.status}: ${res.text}`);
  return (res.json().orders as { orderId: string }[]).map((o) => o.orderId);
}

/** One purchase as a rush records it: who, when it was sent and answered (epoch ms), and the answer. */
export interface PurchaseAttempt {
  user: string;
  sentAt: number;
  at: number;
  status: number;
  error?: string;
  message?: string;
  orderId?: string;
  /** A 503 that says the order may exist (orderMayExist). */
  orderMayExist?: boolean;
}

/** One unit bought by `user` (with a token signed for them), timed. */
export async function attemptPurchase(gatewayUrl: string, saleId: string, user: string): Promise<PurchaseAttempt> {
  const sentAt = Date.now();
  const res = await purchase(gatewayUrl, saleId, signToken(user));
  const { orderId, error, message, orderMayExist } = res.json() as { orderId?: string; error?: string; message?: string; orderMayExist?: boolean };
  return { user, sentAt, at: Date.now(), status: res.status, orderId, error, message, orderMayExist };
}
