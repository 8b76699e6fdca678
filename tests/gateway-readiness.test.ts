/**
 * Readiness (GET /ready on the internal metrics listener), what Kubernetes' readiness probe asks
 * (deploy/kubernetes): false until the gateway has synced the sale configs once, so a fresh pod
 * never answers 404 for a live sale; true from then on, Redis down or not, and through a reload.
 */
import { TestStack } from "./support/test-stack";
import { useStack } from "./support/use-stack";
import type { Gateway } from "./support/gateway";
import { waitFor } from "./support/stream-fixtures";

let gateway: Gateway;

const stack = useStack(new TestStack({ name: "gateway_readiness", database: false, gateway: false, controlPlane: false }), async () => {
  // The gateway starts while its Redis is away: no config can be synced.
  await stack.redisServer.stop();
  gateway = await stack.startGateway({});
});

const readyUrl = () => gateway.metricsUrl.replace(/\/metrics$/, "/ready");

async function ready(): Promise<{ status: number; body: unknown }> {
  const r = await fetch(readyUrl());
  return { status: r.status, body: await r.json() };
}

test("not ready before the first config sync, ready once synced, and it stays so with Redis down and through a reload", async () => {
  // Several probes: every worker answers, and none has synced.
  for (let i = 0; i < 6; i++) expect(await ready()).toEqual({ status: 503, body: { ready: false, message: "the sale configs are not loaded yet" } });
  // Never on the shoppers' server.
  expect((await fetch(`${gateway.url}/ready`)).status).toBe(404);

  await stack.redisServer.resume();
  await waitFor("the gateway ready", async () => (await ready()).status === 200, 3000);
  for (let i = 0; i < 6; i++) expect(await ready()).toEqual({ status: 200, body: { ready: true } });

  // Redis away again: the last known configs stay in force, so the gateway stays in rotation.
  await stack.redisServer.stop();
  await new Promise((r) => setTimeout(r, 600));
  expect((await ready()).status).toBe(200);
  // New workers start from the snapshot the old ones left.
  gateway.reload();
  await new Promise((r) => setTimeout(r, 500));
  for (let i = 0; i < 6; i++) expect((await ready()).status).toBe(200);
}, 20_000);
