/**
 * Two gateways on one Redis, as a fleet: both register (with their metrics URL), the admin
 * live page sums the request counters over both, and a sale's admitPerSecond is the fleet's
 * (each gateway admits its share), within 10 %.
 */
import { GATEWAYS_KEY, saleKeys } from "@flash-sale/contract/keys";
import { requestsByOutcome } from "../control-plane/src/projection/traffic";
import { TestStack } from "./support/test-stack";
import { useStack } from "./support/use-stack";
import { ControlPlane } from "./support/control-plane";
import { Gateway, LOAD_TEST_KNOBS, waitForSale } from "./support/gateway";
import { purchase } from "./support/http";
import { waitFor } from "./support/stream-fixtures";
import { signToken } from "./support/tokens";

jest.setTimeout(60_000);

let gateways: Gateway[] = [];
let controlPlane: ControlPlane;

const stack = useStack(new TestStack({ name: "gateway_fleet", knobs: LOAD_TEST_KNOBS, controlPlane: false }), async () => {
  gateways = [stack.gateway, await stack.startGateway(LOAD_TEST_KNOBS)];
  // Given no gateway's metrics URL: the counts come from the fleet's registrations.
  controlPlane = await ControlPlane.start(stack.db.pool, stack.redisServer.url());
  stack.onStop(() => controlPlane.stop());
});

test("both gateways register, and the live page's request counts are the sum over both", async () => {
  await waitFor("two live gateways", async () => (await stack.redis.zcard(GATEWAYS_KEY)) === 2);
  const sale = await controlPlane.createSale({ id: "fleet-counts", stock: 1000 });
  for (const g of gateways) await waitForSale(g, sale.id);

  const [a, b] = gateways as [Gateway, Gateway];
  const bought = await Promise.all([
    ...Array.from({ length: 7 }, (_, i) => purchase(a.url, sale.id, signToken(`a-${i}`))),
    ...Array.from({ length: 5 }, (_, i) => purchase(b.url, sale.id, signToken(`b-${i}`))),
  ]);
  expect(bought.map((r) => r.status)).toEqual(Array(12).fill(202));
  const refused = await purchase(b.url, sale.id, "not-a-token");
  expect(refused.status).toBe(401);

  const traffic = await controlPlane.admin("GET", `/admin/api/sales/${sale.id}/traffic`);
  expect(traffic.status).toBe(200);
  expect(traffic.body.gateways).toBe(2);
  const perGateway = await Promise.all(gateways.map(async (g) => requestsByOutcome(await (await fetch(g.metricsUrl)).text(), sale.id)));
  expect(perGateway[0]!.accepted).toBe(7);
  expect(perGateway[1]!.accepted).toBe(5);
  expect(traffic.body.requestsByOutcome).toMatchObject({ accepted: 12, unauthorized: 1 });
  expect(Number(await stack.redis.get(saleKeys(sale.id).sold))).toBe(12);
});

test("a sale's admitPerSecond is the fleet's: two gateways together admit within 10 % of it", async () => {
  const ADMIT = 100;
  const SECONDS = 4;
  const sale = await controlPlane.createSale({
    id: "fleet-admission",
    stock: 100_000,
    limits: { userRatePerSecond: 1000, userBurst: 1000, admitPerSecond: ADMIT },
  });
  for (const g of gateways) await waitForSale(g, sale.id);

  // Whole seconds, from a second boundary (the gate counts per wall-clock second).
  const start = Math.ceil(Date.now() / 1000) * 1000 + 1000;
  const end = start + SECONDS * 1000;
  await new Promise((r) => setTimeout(r, start - Date.now()));
  let shopper = 0;
  let admitted = 0;
  let turnedAway = 0;
  const loop = async (g: Gateway) => {
    while (Date.now() < end) {
      const sentAt = Date.now();
      const r = await purchase(g.url, sale.id, signToken(`fleet-${shopper++}`));
      if (sentAt >= end) break;
      if (r.status === 202) admitted++;
      else if (r.status === 429 && r.json().error === "rate_limited") turnedAway++;
      else throw new Error(`unexpected ${r.status} ${r.text}`);
    }
  };
  // 12 shoppers at a time per gateway: well above each one's share.
  await Promise.all(gateways.flatMap((g) => Array.from({ length: 12 }, () => loop(g))));
  const rate = admitted / SECONDS;
  console.log(`fleet admission: ${admitted} admitted in ${SECONDS} s through 2 gateways = ${rate}/s (setting ${ADMIT}/s), ${turnedAway} turned away`);
  expect(turnedAway).toBeGreaterThan(admitted); // the demand was above the setting
  expect(rate).toBeGreaterThanOrEqual(ADMIT * 0.9);
  expect(rate).toBeLessThanOrEqual(ADMIT * 1.1);
  expect(Number(await stack.redis.get(saleKeys(sale.id).sold))).toBe(admitted);
});
