/**
 * The per-IP limiter keys on the real client address: X-Forwarded-For and X-Real-IP count
 * only from the trusted proxies (knob trusted_proxies). Requests from 127.0.0.1 that claim
 * a different client each time are still one client, unless 127.0.0.1 is a trusted proxy.
 */
import type { Gateway } from "./support/gateway";
import { TestStack } from "./support/test-stack";
import { useStack } from "./support/use-stack";
import { request, type HttpResponse } from "./support/http";
import { scrape } from "./support/prometheus";

/** A tiny per-IP budget: the first request and IP_BURST more, then 429. */
const IP_BURST = 3;
const LIMITER_KNOBS = { ip_rate: "1r/m", ip_burst: String(IP_BURST), worker_processes: "1" };
const ATTEMPTS = 20;

const stack = useStack(new TestStack({ name: "gateway_real_ip", database: false, gateway: false, controlPlane: false }));

function startGateway(trustedProxies: string): Promise<Gateway> {
  return stack.startGateway({ ...LIMITER_KNOBS, trusted_proxies: trustedProxies, access_log_refusals_percent: "100" });
}

/** Purchases of an unknown sale (404 once past the limiter, no Redis), each claiming another client. */
async function spoofedAttempts(g: Gateway): Promise<HttpResponse[]> {
  const responses: HttpResponse[] = [];
  for (let i = 1; i <= ATTEMPTS; i++) {
    responses.push(
      await request(`${g.url}/api/sales/any-sale/purchase`, {
        method: "POST",
        headers: { "Content-Type": "application/json", "X-Forwarded-For": `203.0.113.${i}`, "X-Real-IP": `198.51.100.${i}` },
        body: '{"quantity":1}',
      }),
    );
  }
  return responses;
}

test("from an untrusted peer, spoofed X-Forwarded-For / X-Real-IP do not change the limiter key", async () => {
  const g = await startGateway("10.0.0.0/8");

  const statuses = (await spoofedAttempts(g)).map((r) => r.status);

  // One client's budget: the first request and the burst pass, every other is limited.
  expect(statuses.filter((s) => s !== 429)).toHaveLength(1 + IP_BURST);
  expect(statuses.slice(1 + IP_BURST)).toEqual(Array(ATTEMPTS - 1 - IP_BURST).fill(429));
  const limited = (await spoofedAttempts(g))[0]!;
  expect(limited.json()).toMatchObject({ error: "rate_limited", retryAfter: 1 });
  expect(limited.headers["retry-after"]).toBe("1");

  // The access log names the real peer, and the metrics tell the per-IP limiter apart.
  await new Promise((r) => setTimeout(r, 1200));
  const clients = new Set(g.accessLog().map((e) => e.client));
  expect([...clients]).toEqual(["127.0.0.1"]);
  const metrics = await scrape(g.metricsUrl);
  expect(metrics.value("fs_gateway_requests_total", { route: "purchase", sale: "", outcome: "ip_limited" })).toBe(2 * ATTEMPTS - 1 - IP_BURST);
});

test("from a trusted proxy, X-Forwarded-For names the client: each claimed client has its own budget", async () => {
  const g = await startGateway("127.0.0.1/32");

  const responses = await spoofedAttempts(g);

  expect(responses.map((r) => r.status)).toEqual(Array(ATTEMPTS).fill(404));
  await new Promise((r) => setTimeout(r, 1200));
  expect(g.accessLog().map((e) => e.client)).toEqual(Array.from({ length: ATTEMPTS }, (_, i) => `203.0.113.${i + 1}`));
});
