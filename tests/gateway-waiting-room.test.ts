/**
 * Waiting rooms through the real gateway (nginx + compiled Lua), Redis, order worker and
 * Postgres: shoppers join before the start, are shuffled at it, admitted by the fleet's cursor
 * (stock-aware), and buy with their pass; every sale is counted at the end.
 */
import { createLogger } from "@flash-sale/node-common";
import { saleKeys } from "@flash-sale/contract/keys";
import { Gateway, LOAD_TEST_KNOBS, waitForSale } from "./support/gateway";
import { TestStack } from "./support/test-stack";
import { useStack } from "./support/use-stack";
import { balancedCount, countSale, snapshot, waitForRows } from "./support/counts";
import { purchase } from "./support/http";
import type { QueueReply } from "@flash-sale/contract/waiting_room";
import { Shopper, joinQueue, pollQueue, sleep, spearman } from "./support/queue";
import { signToken } from "./support/tokens";
import { waitFor } from "./support/stream-fixtures";
import { scrape } from "./support/prometheus";
import { SaleRepository } from "../control-plane/src/store/sale-repository";
import { expireReservationsJob } from "../control-plane/src/jobs/expire-reservations";

jest.setTimeout(180_000);

/** A second gateway on the same Redis: the fleet. */
let second: Gateway;

/** Wide enough that no test here meets the per-user limiter or the purchase admission gate. */
const limits = { userRatePerSecond: 100, userBurst: 100, admitPerSecond: 100000 };

// The access log keeps every poll on the first gateway and none on the second (knob access_log_polls_percent).
const stack = useStack(new TestStack({ name: "waiting_room", knobs: { ...LOAD_TEST_KNOBS, access_log_polls_percent: "100" }, worker: { batchSize: 500 } }), async () => {
  second = await stack.startGateway({ ...LOAD_TEST_KNOBS, access_log_polls_percent: "0" });
});

interface RoomSale {
  id: string;
  stock: number;
  startsAtMs: number;
  admitPerSecond: number;
  passSeconds: number;
  deduction?: "order" | "reserve";
  paymentTimeoutSeconds?: number;
}

/** Every waiting-room sale of this file: the earlier tests' queues keep moving under the later ones. */
const roomSaleIds: string[] = [];

/** `count` shoppers of the sale at `gatewayUrl`, named `${prefix}-<n>`, joined one after another. */
async function joinedInTurn(sale: RoomSale, prefix: string, count: number, gatewayUrl = stack.gateway.url): Promise<Shopper[]> {
  const shoppers = Array.from({ length: count }, (_, i) => new Shopper(`${prefix}-${i}`, sale.id, gatewayUrl));
  for (const s of shoppers) await s.join();
  return shoppers;
}

async function createRoomSale(s: RoomSale): Promise<void> {
  roomSaleIds.push(s.id);
  await stack.controlPlane.createSale({
    id: s.id,
    stock: s.stock,
    startsAt: new Date(s.startsAtMs).toISOString(),
    endsAt: new Date(s.startsAtMs + 3_600_000).toISOString(),
    deduction: s.deduction ?? "order",
    ...(s.paymentTimeoutSeconds === undefined ? {} : { paymentTimeoutSeconds: s.paymentTimeoutSeconds }),
    limits,
    waitingRoom: { opensBeforeSeconds: 600, admitPerSecond: s.admitPerSecond, passSeconds: s.passSeconds },
  });
  await waitForSale(stack.gateway, s.id);
}

/** The keys the gateways' timers move while nothing else happens (see snapshot), of every room so far. */
function timerKeys(): string[] {
  return roomSaleIds.flatMap((id) => [saleKeys(id).queueState, saleKeys(id).admissions]);
}

const untilStart = (startsAtMs: number) => sleep(Math.max(0, startsAtMs - Date.now() + 50));

/** Polls until the shopper's state is `status` (or throws at the deadline). */
async function pollUntil(s: Shopper, status: QueueReply["status"], timeoutMs = 15_000): Promise<QueueReply> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const r = await s.poll();
    if (r.status === status) return r;
    if (Date.now() > deadline) throw new Error(`${s.user} is ${JSON.stringify(r)}, not ${status}, after ${timeoutMs} ms`);
    await sleep(Math.min(r.retryAfterMs ?? 500, 250));
  }
}

test("3,000 shoppers join before the start for 100 units: one place each, exactly 100 orders, and every later poll answers sold_out within a second of the last unit", async () => {
  const SHOPPERS = 3000;
  const UNITS = 100;
  const sale: RoomSale = { id: "wr-counted", stock: UNITS, startsAtMs: Math.ceil(Date.now() / 1000) * 1000 + 20_000, admitPerSecond: 200, passSeconds: 60 };
  await createRoomSale(sale);
  const shoppers = Array.from({ length: SHOPPERS }, (_, i) => new Shopper(`counted-${i}`, sale.id, stack.gateway.url));

  const joined = await Promise.all(shoppers.map((s) => s.join()));
  const again = await Promise.all(shoppers.map((s) => joinQueue(stack.gateway.url, sale.id, s.token).then((r) => r.json() as QueueReply)));
  expect(Date.now()).toBeLessThan(sale.startsAtMs); // all of it in the pre-queue
  for (const [i, r] of joined.entries()) {
    // Before the start: waiting, no position (drawn at the start), and joining again changes nothing.
    expect(r).toMatchObject({ status: "waiting" });
    expect(r.position).toBeUndefined();
    expect(again[i]!.ticket).toBe(r.ticket);
  }
  expect(await stack.redis.zcard(saleKeys(sale.id).queue)).toBe(SHOPPERS);

  await untilStart(sale.startsAtMs);
  const polls: { user: string; sentAt: number; receivedAt: number; status: string }[] = [];
  const run = async (s: Shopper): Promise<"bought" | "sold_out"> => {
    for (;;) {
      const sentAt = Date.now();
      const r = await s.poll();
      polls.push({ user: s.user, sentAt, receivedAt: Date.now(), status: r.status });
      if (r.status === "sold_out") return "sold_out";
      if (r.status === "admitted") {
        const bought = await s.buy();
        if (bought.status === 202) return "bought";
        expect(bought.json().error).toBe("sold_out");
        continue;
      }
      expect(r.status).toBe("waiting");
      await sleep(r.retryAfterMs!);
    }
  };
  const outcomes = await Promise.all(shoppers.map(run));

  expect(outcomes.filter((o) => o === "bought")).toHaveLength(UNITS);
  // One place each: the positions are exactly 1..3000.
  expect(shoppers.map((s) => s.last!.position).sort((a, b) => a! - b!)).toEqual(Array.from({ length: SHOPPERS }, (_, i) => i + 1));

  await waitForRows(stack.db.pool, sale.id, UNITS);
  expect(await countSale(stack.redis, stack.db.pool, sale.id)).toEqual(balancedCount(UNITS, 0));
  // The last unit by Redis' clock (the machine's, as the test's).
  const last = await stack.db.pool.query<{ at: Date }>("SELECT max(accepted_at) AS at FROM orders WHERE sale_id = $1", [sale.id]);
  const lastUnitAt = last.rows[0]!.at.getTime();
  const late = polls.filter((p) => p.sentAt >= lastUnitAt + 1000 && p.status !== "sold_out");
  expect(late).toEqual([]);
  const firstSoldOut = new Map<string, number>();
  for (const p of polls) if (p.status === "sold_out" && !firstSoldOut.has(p.user)) firstSoldOut.set(p.user, p.receivedAt - lastUnitAt);
  const delays = [...firstSoldOut.values()].sort((a, b) => a - b);
  expect(delays).toHaveLength(SHOPPERS - UNITS);
  const latencies = polls.map((p) => p.receivedAt - p.sentAt).sort((x, y) => x - y);
  const pct = (xs: number[], q: number) => xs[Math.min(xs.length - 1, Math.floor(xs.length * q))];
  console.log(
    `waiting room, ${SHOPPERS} shoppers, ${UNITS} units: ${polls.length} polls (round trip median ${pct(latencies, 0.5)} ms, p99 ${pct(latencies, 0.99)} ms); ` +
      `each shopper's first sold_out after the last unit: median ${pct(delays, 0.5)} ms, p99 ${pct(delays, 0.99)} ms, max ${delays[delays.length - 1]} ms`,
  );
  expect(stack.gateway.errorLines()).toEqual([]);
});

test("the order of the pre-queue is a random permutation; after the start, arrival order holds", async () => {
  const BEFORE = 1000;
  const AFTER = 40;
  const sale: RoomSale = { id: "wr-shuffle", stock: 100_000, startsAtMs: Math.ceil(Date.now() / 1000) * 1000 + 10_000, admitPerSecond: 1, passSeconds: 60 };
  await createRoomSale(sale);
  const early = Array.from({ length: BEFORE }, (_, i) => new Shopper(`early-${i}`, sale.id, stack.gateway.url));
  // Joined in 50 waves of 20: arrival order is known to within a wave.
  for (let wave = 0; wave < BEFORE; wave += 20) await Promise.all(early.slice(wave, wave + 20).map((s) => s.join()));
  expect(Date.now()).toBeLessThan(sale.startsAtMs);

  await untilStart(sale.startsAtMs);
  const late = Array.from({ length: AFTER }, (_, i) => new Shopper(`late-${i}`, sale.id, stack.gateway.url));
  for (const s of late) await s.join();
  await Promise.all(early.map((s) => s.poll()));

  const positions = early.map((s) => s.last!.position!);
  expect([...positions].sort((a, b) => a - b)).toEqual(Array.from({ length: BEFORE }, (_, i) => i + 1));
  const rho = spearman(early.map((_, i) => i), positions);
  const fixedPoints = positions.filter((p, i) => p === i + 1).length;
  console.log(`pre-queue shuffle of ${BEFORE}: Spearman rho ${rho.toFixed(4)}, ${fixedPoints} fixed points`);
  // Under a uniform shuffle rho has a standard deviation of 1/sqrt(n-1) ≈ 0.032 here; arrival order gives about 1.
  expect(Math.abs(rho)).toBeLessThan(0.15);
  expect(fixedPoints).toBeLessThan(10); // 1 expected under a uniform shuffle
  // Every later arrival lines up behind, in arrival order.
  expect(late.map((s) => s.last!.position)).toEqual(Array.from({ length: AFTER }, (_, i) => BEFORE + i + 1));
});

test("passes: missing, malformed, forged, expired, another shopper's or another sale's answer 403 pass_required and write nothing; the right one buys", async () => {
  const startsAtMs = Date.now() + 2000;
  const a: RoomSale = { id: "wr-pass-a", stock: 10, startsAtMs, admitPerSecond: 100, passSeconds: 60 };
  const b: RoomSale = { ...a, id: "wr-pass-b" };
  const short: RoomSale = { ...a, id: "wr-pass-short", passSeconds: 1 };
  for (const s of [a, b, short]) await createRoomSale(s);
  const alice = new Shopper("pass-alice", a.id, stack.gateway.url);
  const bob = new Shopper("pass-bob", a.id, stack.gateway.url);
  const aliceInB = new Shopper("pass-alice", b.id, stack.gateway.url);
  const aliceShort = new Shopper("pass-alice", short.id, stack.gateway.url);
  for (const s of [alice, bob, aliceInB, aliceShort]) await s.join();
  await untilStart(startsAtMs);
  for (const s of [alice, bob, aliceInB, aliceShort]) await pollUntil(s, "admitted");
  const pass = alice.last!.pass!;
  const expired = aliceShort.last!.pass!;
  await sleep(Date.parse(aliceShort.last!.passExpiresAt!) - Date.now() + 100);

  const [epoch, exp, position, tag] = pass.split(".") as [string, string, string, string];
  const flipped = tag.slice(0, -1) + (tag.endsWith("A") ? "B" : "A");
  const refusals: [string, string | undefined][] = [
    ["missing", undefined],
    ["malformed", "not-a-pass"],
    ["forged tag", `${epoch}.${exp}.${position}.${flipped}`],
    ["forged expiry", `${epoch}.${Number(exp) + 3_600_000}.${position}.${tag}`],
    ["forged position", `${epoch}.${exp}.${Number(position) + 1}.${tag}`],
    ["forged epoch", `${Number(epoch) + 1}.${exp}.${position}.${tag}`],
    ["bob's", bob.last!.pass],
    ["sale b's", aliceInB.last!.pass],
  ];
  const before = await snapshot(stack.redis, stack.db.pool, timerKeys());
  for (const [what, p] of refusals) {
    const res = await purchase(stack.gateway.url, a.id, alice.token, p === undefined ? { quantity: 1 } : { quantity: 1, pass: p });
    expect({ what, status: res.status, error: res.json().error }).toEqual({ what, status: 403, error: "pass_required" });
  }
  // An expired pass, on its own sale.
  const onItsSale = await aliceShort.buy(expired);
  expect({ status: onItsSale.status, error: onItsSale.json().error }).toEqual({ status: 403, error: "pass_required" });
  expect(await snapshot(stack.redis, stack.db.pool, timerKeys())).toBe(before);

  expect((await alice.buy(pass)).status).toBe(202);
  await waitForRows(stack.db.pool, a.id, 1);
  expect(await countSale(stack.redis, stack.db.pool, a.id)).toEqual(balancedCount(1, 9));
});

test("a pass left unused expires and its place goes to the next shopper; stock bounds the passes out at once", async () => {
  const sale: RoomSale = { id: "wr-expiry", stock: 2, startsAtMs: Date.now() + 1500, admitPerSecond: 50, passSeconds: 2 };
  await createRoomSale(sale);
  await untilStart(sale.startsAtMs);
  const shoppers = await joinedInTurn(sale, "expiry", 6);
  expect(shoppers.map((s) => s.last!.position)).toEqual([1, 2, 3, 4, 5, 6]);

  // Two units: two passes out at once, however fast the cursor may move.
  await pollUntil(shoppers[1]!, "admitted");
  await sleep(1000);
  expect((await Promise.all(shoppers.map((s) => s.poll()))).map((r) => r.status)).toEqual(["admitted", "admitted", "waiting", "waiting", "waiting", "waiting"]);
  const firstPass = shoppers[0]!.last!.pass!;

  // Neither buys: their passes expire, and the next two are admitted.
  const third = await pollUntil(shoppers[3]!, "admitted", 10_000);
  expect(third.position).toBe(4);
  expect((await Promise.all(shoppers.map((s) => s.poll()))).map((r) => r.status)).toEqual(["ended", "ended", "admitted", "admitted", "waiting", "waiting"]);
  expect((await shoppers[0]!.buy(firstPass)).json().error).toBe("pass_required");

  // The third buys; the fourth lets its pass expire: only the fifth is admitted (one unit left).
  expect((await shoppers[2]!.buy()).status).toBe(202);
  await pollUntil(shoppers[4]!, "admitted", 10_000);
  await sleep(1000);
  expect((await shoppers[5]!.poll()).status).toBe("waiting");
  expect((await shoppers[4]!.buy()).status).toBe(202);
  await waitFor("sold out answered", async () => (await shoppers[5]!.poll()).status === "sold_out", 3000);

  await waitForRows(stack.db.pool, sale.id, 2);
  expect(await countSale(stack.redis, stack.db.pool, sale.id)).toEqual(balancedCount(2, 0));
  const state = await stack.redis.hgetall(saleKeys(sale.id).queueState);
  expect(Number(state.expired)).toBe(3);
  // The gateway's metrics show the same (the fleet's figures, as synced).
  const figures = async () => {
    const m = await scrape(stack.gateway.metricsUrl);
    return ["length", "admitted", "passes_used", "passes_expired", "admit_per_second"].map((f) => m.value(`fs_gateway_queue_${f}`, { sale: sale.id }));
  };
  await waitFor("the metrics synced", async () => JSON.stringify(await figures()) === JSON.stringify([6, 5, 2, 3, 50]), 3000);
});

test("a shopper whose pass expired unused joins again at the back, is admitted later and buys once; a rejoin is refused while the pass is good and after buying", async () => {
  const sale: RoomSale = { id: "wr-rejoin", stock: 3, startsAtMs: Date.now() + 1500, admitPerSecond: 50, passSeconds: 2 };
  await createRoomSale(sale);
  await untilStart(sale.startsAtMs);
  const [late, buyer] = (await joinedInTurn(sale, "rejoin", 2)) as [Shopper, Shopper];
  const k = saleKeys(sale.id);

  // Admitted: joining again answers the same place and pass.
  const admitted = await pollUntil(late, "admitted");
  const oldPass = admitted.pass!;
  expect(await late.join()).toMatchObject({ status: "admitted", position: 1, pass: oldPass });
  await pollUntil(buyer, "admitted");
  expect((await buyer.buy()).status).toBe(202);

  // Both places settled (the pass's time and its grace over): late's turn went unused.
  await waitFor("both places settled", async () => Number(await stack.redis.hget(k.queueState, "settled")) >= 2, 10_000);
  expect((await late.poll()).status).toBe("ended");
  expect(await buyer.join()).toMatchObject({ status: "ended", position: 2 }); // bought: no second place

  const rejoined = await late.join();
  expect(rejoined.position).toBe(3);
  expect(await stack.redis.zrange(k.queue, 0, -1)).toEqual(["rejoin-0", "rejoin-1", "rejoin-0 1"]);
  expect((await late.buy(oldPass)).json().error).toBe("pass_required");
  const second = await pollUntil(late, "admitted", 10_000);
  expect(second.position).toBe(3);
  expect(await late.join()).toMatchObject({ status: "admitted", position: 3 }); // the new pass is good: same place
  expect((await late.buy()).status).toBe(202);
  expect((await late.buy()).status).not.toBe(202); // the per-user limit holds across places
  expect(await late.join()).toMatchObject({ position: 3 });

  await waitForRows(stack.db.pool, sale.id, 2);
  expect(await countSale(stack.redis, stack.db.pool, sale.id)).toEqual(balancedCount(2, 1));
  // The new place settles as bought, the old one stays expired (once).
  await waitFor("the new place settled", async () => Number(await stack.redis.hget(k.queueState, "settled")) === 3, 10_000);
  const state = await stack.redis.hgetall(k.queueState);
  expect({ expired: Number(state.expired), admitted: Math.floor(Number(state.cursor)) }).toEqual({ expired: 1, admitted: 3 });
  expect(Math.floor(Number(state.cursor))).toBeLessThanOrEqual(Number(state.expired) + 1 + 2); // admitted <= expired + unitsLeft + buyers
});

test("a poll with its ticket is answered from the gateway's memory: no Redis round trip", async () => {
  const sale: RoomSale = { id: "wr-cheap", stock: 1000, startsAtMs: Date.now() + 1500, admitPerSecond: 5, passSeconds: 60 };
  await createRoomSale(sale);
  await untilStart(sale.startsAtMs);
  const shoppers = await joinedInTurn(sale, "cheap", 20);
  const redisCalls = async () => (await scrape(stack.gateway.metricsUrl)).value("fs_gateway_redis_duration_seconds_count", { op: "queue_place" });
  const before = await redisCalls();
  for (let round = 0; round < 10; round++) {
    const replies = await Promise.all(shoppers.map((s) => s.poll()));
    expect(replies.every((r) => r.status === "waiting" || r.status === "admitted")).toBe(true);
  }
  expect(await redisCalls()).toBe(before);
  // Without its ticket a poll reads the place from Redis (once per poll).
  await pollQueue(stack.gateway.url, sale.id, shoppers[0]!.token);
  expect(await redisCalls()).toBe(before! + 1);
});

test("the access log keeps the share of polls access_log_polls_percent says (100 and 0 here), and every join", async () => {
  const sale: RoomSale = { id: "wr-logged", stock: 1000, startsAtMs: Date.now() + 1000, admitPerSecond: 5, passSeconds: 60 };
  await createRoomSale(sale);
  await waitForSale(second, sale.id);
  await untilStart(sale.startsAtMs);
  const shoppers = await joinedInTurn(sale, "logged", 6, second.url);
  for (let round = 0; round < 3; round++) {
    for (const s of shoppers) await s.via(second.url).poll();
    for (const s of shoppers) await s.via(stack.gateway.url).poll();
  }
  await sleep(1200); // the access log's buffer is flushed every second
  const lines = (g: Gateway) => g.accessLog().filter((l) => l["sale"] === sale.id && l["route"] === "queue").map((l) => `${l["method"]} ${l["status"]}`);
  expect(lines(second)).toEqual(Array(6).fill("POST 200"));
  expect(lines(stack.gateway)).toEqual(Array(18).fill("GET 200"));
});

test("a reserve sale: sold out stops admission; a reservation that expires reopens it for the next shopper", async () => {
  const TIMEOUT = 3;
  const sale: RoomSale = { id: "wr-reserve", stock: 2, startsAtMs: Date.now() + 1500, admitPerSecond: 50, passSeconds: 60, deduction: "reserve", paymentTimeoutSeconds: TIMEOUT };
  await createRoomSale(sale);
  await untilStart(sale.startsAtMs);
  const shoppers = await joinedInTurn(sale, "reserve", 4);
  for (const s of shoppers.slice(0, 2)) {
    await pollUntil(s, "admitted");
    expect((await s.buy()).status).toBe(202);
  }
  const reservedAt = Date.now();
  for (const s of shoppers.slice(2)) expect((await s.poll()).status).toBe("sold_out");

  await sleep(reservedAt + TIMEOUT * 1000 + 200 - Date.now());
  const logger = createLogger("waiting-room-test", "silent");
  await expireReservationsJob({ redis: stack.redis, repository: new SaleRepository(stack.db.pool), logger }, "* * * * * *", 30_000).run();
  expect(await stack.redis.get(saleKeys(sale.id).stock)).toBe("2");

  for (const s of shoppers.slice(2)) {
    await pollUntil(s, "admitted", 5000);
    expect((await s.buy()).status).toBe(202);
  }
  await waitForRows(stack.db.pool, sale.id, 4);
  const count = await countSale(stack.redis, stack.db.pool, sale.id);
  expect(count).toMatchObject({ unitsLeft: 0, unitsSold: 2, buyers: 4, redisOrders: 4, pgRows: 4, pgDistinctUsers: 4 });
});

test("two gateways share one queue: one place per shopper across both, tickets work on either, and the admission rate is the fleet's, within 10 %", async () => {
  const SHOPPERS = 1500;
  const ADMIT = 100;
  const PASS = 120;
  const sale: RoomSale = { id: "wr-fleet", stock: 100_000, startsAtMs: Math.ceil(Date.now() / 1000) * 1000 + 8000, admitPerSecond: ADMIT, passSeconds: PASS };
  await createRoomSale(sale);
  await waitForSale(second, sale.id);
  const gateways = [stack.gateway, second];
  const shoppers = Array.from({ length: SHOPPERS }, (_, i) => new Shopper(`fleet-${i}`, sale.id, gateways[i % 2]!.url));
  await Promise.all(shoppers.map((s) => s.join()));
  // Joining again through the other gateway finds the same place.
  const again = await Promise.all(shoppers.slice(0, 100).map((s, i) => joinQueue(gateways[(i + 1) % 2]!.url, sale.id, s.token)));
  expect(again.map((r) => r.json().ticket)).toEqual(shoppers.slice(0, 100).map((s) => s.ticket));
  expect(await stack.redis.zcard(saleKeys(sale.id).queue)).toBe(SHOPPERS);
  await untilStart(sale.startsAtMs);

  // Every shopper polls through the other gateway from now on, with the ticket the first gave.
  for (const [i, s] of shoppers.entries()) s.via(gateways[(i + 1) % 2]!.url);
  const WINDOW_MS = 8000;
  const stopAt = sale.startsAtMs + WINDOW_MS + 1500;
  const admittedAt = new Map<string, number>();
  const follow = async (s: Shopper) => {
    while (Date.now() < stopAt) {
      const r = await s.poll();
      if (r.status === "admitted") {
        admittedAt.set(s.user, Date.parse(r.passExpiresAt!) - PASS * 1000);
        return;
      }
      await sleep(r.retryAfterMs!);
    }
  };
  await Promise.all(shoppers.map(follow));

  expect(shoppers.map((s) => s.last!.position).sort((x, y) => x! - y!)).toEqual(Array.from({ length: SHOPPERS }, (_, i) => i + 1));
  // By the admission times the passes carry (Redis' clock): shoppers admitted from 1 s to 1 s + WINDOW after the start.
  const from = sale.startsAtMs + 1000;
  const to = from + WINDOW_MS - 1000;
  const inWindow = [...admittedAt.values()].filter((t) => t >= from && t < to).length;
  const rate = inWindow / ((to - from) / 1000);
  console.log(`fleet waiting room: ${inWindow} admitted in ${(to - from) / 1000} s through 2 gateways = ${rate.toFixed(1)}/s (setting ${ADMIT}/s); ${admittedAt.size} admitted in all`);
  expect(rate).toBeGreaterThanOrEqual(ADMIT * 0.9);
  expect(rate).toBeLessThanOrEqual(ADMIT * 1.1);
  // Shoppers are admitted in their order (a gateway whose copy of the admissions is behind
  // stamps the time of its last sync: later, by less than a sync period on a quiet machine).
  const byPosition = shoppers.filter((s) => admittedAt.has(s.user)).sort((x, y) => x.last!.position! - y.last!.position!);
  let latest = 0;
  let worstInversionMs = 0;
  for (const s of byPosition) {
    const t = admittedAt.get(s.user)!;
    worstInversionMs = Math.max(worstInversionMs, latest - t);
    latest = Math.max(latest, t);
  }
  console.log(`fleet waiting room: admission times out of position order by at most ${worstInversionMs} ms`);
  expect(worstInversionMs).toBeLessThan(1000);

  // A pass from one gateway buys through the other.
  const buyer = shoppers.find((s) => admittedAt.has(s.user))!;
  const res = await purchase(stack.gateway.url, sale.id, buyer.token, { quantity: 1, pass: buyer.last!.pass });
  expect(res.status).toBe(202);
  expect(second.errorLines()).toEqual([]);
});

test("the queue's own refusals: not open yet, no waiting room, not in the queue, no token", async () => {
  const sale: RoomSale = { id: "wr-refusals", stock: 5, startsAtMs: Date.now() + 3_600_000, admitPerSecond: 10, passSeconds: 60 };
  await stack.controlPlane.createSale({
    id: sale.id,
    stock: 5,
    startsAt: new Date(sale.startsAtMs).toISOString(),
    endsAt: new Date(sale.startsAtMs + 3_600_000).toISOString(),
    deduction: "order",
    waitingRoom: { opensBeforeSeconds: 60, admitPerSecond: 10, passSeconds: 60 },
  });
  const plain = await stack.controlPlane.createSale({ id: "wr-plain", stock: 5 });
  await waitForSale(stack.gateway, sale.id);
  await waitForSale(stack.gateway, plain.id);
  const token = signToken("refusals-shopper");

  const early = await joinQueue(stack.gateway.url, sale.id, token);
  expect(early.status).toBe(425);
  expect(early.json()).toMatchObject({ error: "not_started", startsAt: new Date(sale.startsAtMs).toISOString() });
  expect((await joinQueue(stack.gateway.url, plain.id, token)).json().error).toBe("not_found");
  expect((await pollQueue(stack.gateway.url, "no-such-sale", token)).json().error).toBe("sale_not_found");

  await stack.controlPlane.admin("PATCH", `/admin/api/sales/${sale.id}`, { startsAt: new Date(Date.now() + 30_000).toISOString() });
  await waitFor("the queue open", async () => (await pollQueue(stack.gateway.url, sale.id, token)).status === 404, 3000);
  const notIn = await pollQueue(stack.gateway.url, sale.id, token);
  expect(notIn.json().error).toBe("not_in_queue");
  expect((await joinQueue(stack.gateway.url, sale.id, "not-a-token")).status).toBe(401);
  expect((await pollQueue(stack.gateway.url, sale.id, token, "1.forged-ticket")).json().error).toBe("not_in_queue");
  const view = (await (await fetch(`${stack.gateway.url}/api/sales/${sale.id}`)).json()) as { startsAt: string; waitingRoom: { opensAt: string } };
  expect(view.waitingRoom.opensAt).toBe(new Date(Date.parse(view.startsAt) - 60_000).toISOString());
  expect((await purchase(stack.gateway.url, plain.id, token)).status).toBe(202); // a sale without one sells as before
});
