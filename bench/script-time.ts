/**
 * Script benchmark (make bench): the Redis time inside purchase.lua per call (INFO
 * commandstats, EVALSHA), as a sale takes more orders, on a private Redis with the AOF on
 * (everysec) as in production; beside it, in the same run, what the calls a purchase makes cost
 * inside a script (one INCR: the least a script costs here; the same with a purchase's 9 KEYS and
 * 10 ARGV, and answering a table as a purchase does; TIME; ten GETs; ten INCRs; an XADD of the
 * order stream's nine fields and of one field carrying the same text; an HSET into a growing
 * hash), so the purchase's time can be read as the sum of its parts. Then where the purchase's
 * own time goes: the real script cut after each of its calls (answering as an acceptance does),
 * each cut on a sale of its own, interleaved over BENCH_SCRIPT_STEP_REPEATS (default 3) repeats,
 * medians. Sent from Node in bursts of 1,000, distinct shoppers, one unit each.
 *
 * BENCH_SCRIPT_ROUNDS (default 5) rounds of BENCH_SCRIPT_ORDERS (default 20,000) orders.
 */
import { saleKeys } from "@flash-sale/contract/keys";
import { PURCHASE as PURCHASE_SCRIPT } from "@flash-sale/contract/scripts/order";
import { fillScriptCall } from "@flash-sale/contract/scripts/script";
import { createRedis, RedisScript, type Redis } from "@flash-sale/node-common";
import { PrivateRedis } from "../tests/support/private-redis";
import { createTestDatabase } from "../tests/support/test-database";
import { publishSale, redisRunId } from "../tests/support/stream-fixtures";
import { benchUserId } from "./shopper-tokens";
import { median, progress, reportProblems, runBench, spreadPct, spreadText, writeResults } from "./bench-run";

const ROUNDS = Number(process.env.BENCH_SCRIPT_ROUNDS ?? 5);
const ORDERS = Number(process.env.BENCH_SCRIPT_ORDERS ?? 20_000);
const STEP_REPEATS = Number(process.env.BENCH_SCRIPT_STEP_REPEATS ?? 3);
const BURST = 1000;
const SALE = "bench-script";
const PURCHASE = RedisScript.load(PURCHASE_SCRIPT);

/** A bench shopper's purchase of one unit on `sale`, by name. */
function purchaseArgs(sale: string, runId: string, n: number) {
  return { saleId: sale, userId: benchUserId("shopper", n), quantity: 1, perUserLimit: 1, requestId: `bench-${n}`, openUnpaidBound: 0, runId, passEpoch: "", price: 100, currency: "USD" };
}

/** The purchase's KEYS and ARGV in the script's order, for another text (a probe, a cut) run with EVAL: numKeys first. */
function positional(sale: string, args: ReturnType<typeof purchaseArgs>): [number, ...(string | number)[]] {
  const values: (string | number)[] = [];
  return [fillScriptCall(PURCHASE_SCRIPT, saleKeys(sale), args, values), ...values];
}

async function usecPerCall(redis: Redis, command: string): Promise<number> {
  const m = new RegExp(`cmdstat_${command}:calls=\\d+,usec=\\d+,usec_per_call=([\\d.]+)`).exec(await redis.info("commandstats"));
  return m === null ? NaN : Number(m[1]);
}

/** The purchase script's calls in order, each named by a text found only on its line. */
const PURCHASE_STEPS: { label: string; line: string }[] = [
  { label: "the sale's meta (HMGET)", line: "'HMGET', KEYS[8]" },
  { label: "Redis' clock (TIME)", line: "'TIME'" },
  { label: "the counters (MGET)", line: "'MGET'" },
  { label: "the buyer's units (HGET)", line: "'HGET', KEYS[3]" },
  { label: "the order number is free (HEXISTS)", line: "'HEXISTS'" },
  { label: "the buyer's order list (HGET)", line: "'HGET', KEYS[9]" },
  { label: "the stream entry (XADD, its last line)", line: "'cur', ARGV[10])" },
  { label: "the counters written (MSET)", line: "'MSET'" },
  { label: "the buyer's units written (HSET)", line: "'HSET', KEYS[3]" },
  { label: "the order record written (HSET)", line: "'HSET', KEYS[5]" },
];

/** The script's text ending right after the line that holds `line`, answering as an acceptance. */
function purchaseCutAfter(line: string): string {
  const lines = PURCHASE.source.split("\n");
  const body = lines.indexOf("]]") + 1;
  const at = lines.findIndex((l, i) => i >= body && l.includes(line));
  if (body === 0 || at < 0) throw new Error(`purchase.lua has no line with ${line}: update PURCHASE_STEPS`);
  return [...lines.slice(0, at + 1), "do return {0, ARGV[1] .. '.1.1', 1} end", ...lines.slice(at + 1)].join("\n");
}

async function main(): Promise<void> {
  const server = await PrivateRedis.start({ persistent: true, appendfsync: "everysec" });
  const redis = createRedis(server.url(), "bench-script");
  const db = await createTestDatabase("bench_script");
  const problems: string[] = [];
  try {
    await publishSale(db.pool, redis, { id: SALE, stock: 50_000_000, perUserLimit: 1 });
    const runId = await redisRunId(redis);
    // `wide`: called with as many KEYS and ARGV as a purchase (9 and 10), not 2 and none.
    const probes: { label: string; script: string; wide?: boolean }[] = [
      { label: "one INCR", script: "return redis.call('INCR', KEYS[1])" },
      { label: "one INCR, with a purchase's 9 KEYS and 10 ARGV", script: "return redis.call('INCR', KEYS[1])", wide: true },
      { label: "one INCR, 9 KEYS and 10 ARGV, answering {0, id, n} as a purchase does", script: "local n = redis.call('INCR', KEYS[1]) return {0, ARGV[1] .. '.1.' .. n, n}", wide: true },
      { label: "TIME and one INCR", script: "local t = redis.call('TIME') return redis.call('INCR', KEYS[1])" },
      { label: "ten GETs", script: "for i = 1, 10 do redis.call('GET', KEYS[1]) end return 1" },
      { label: "ten INCRs", script: "for i = 1, 10 do redis.call('INCR', KEYS[1]) end return 1" },
      { label: "one XADD, the order stream's 9 fields", script: "return redis.call('XADD', KEYS[1], '*', 'order', 's.1.1', 'sale', 's', 'user', 'shopper-000000001', 'qty', 1, 'uunits', 1, 'at', 1700000000000, 'rid', '0123456789abcdef', 'price', '100', 'cur', 'USD')" },
      { label: "one XADD, the same text in 1 field", script: "return redis.call('XADD', KEYS[1], '*', 'o', 's.1.1 s shopper-000000001 1 1 1700000000000 0123456789abcdef 100 USD')" },
      { label: "INCR, then HSET of a new field into a growing hash", script: "local n = redis.call('INCR', KEYS[1]) return redis.call('HSET', KEYS[2], n, 'shopper-000000001\t1\t1700000000000\t1\t100\tUSD')" },
    ];
    const callCosts: { label: string; usecPerScript: number }[] = [];
    for (const [i, probe] of probes.entries()) {
      await redis.config("RESETSTAT");
      // KEYS[1], KEYS[2] of the probe's own; wide: the rest as a purchase's.
      const [numKeys, ...values] = probe.wide ? positional(`bench-probe-${i}`, purchaseArgs(SALE, runId, 1)) : [2, "", ""];
      values.splice(0, 2, `bench-probe-${i}`, `bench-probe-${i}-hash`);
      for (let b = 0; b < ORDERS / BURST; b++) await Promise.all(Array.from({ length: BURST }, () => redis.eval(probe.script, numKeys, ...values)));
      callCosts.push({ label: probe.label, usecPerScript: await usecPerCall(redis, "eval") });
    }
    const floor = callCosts[0]!.usecPerScript;
    const rounds: { orders: number; usecPerCall: number }[] = [];
    let shopper = 0;
    // ORDERS calls in bursts of BURST, each by a shopper never seen before; answers the refusals.
    const buyInBursts = async (buy: (n: number) => Promise<unknown>): Promise<number> => {
      let refused = 0;
      for (let b = 0; b < ORDERS / BURST; b++) {
        const replies = await Promise.all(Array.from({ length: BURST }, () => buy(shopper++)));
        refused += replies.filter((r) => (Array.isArray(r) ? r[0] !== 0 : (r as { outcome?: string }).outcome !== "accepted")).length;
      }
      return refused;
    };
    for (let round = 0; round < ROUNDS; round++) {
      await redis.config("RESETSTAT");
      const refused = await buyInBursts((n) => PURCHASE.run(redis, saleKeys(SALE), purchaseArgs(SALE, runId, n)));
      if (refused > 0) problems.push(`${refused} purchases refused in round ${round + 1}`);
      rounds.push({ orders: shopper, usecPerCall: await usecPerCall(redis, "evalsha") });
      progress(`after ${shopper} orders: ${rounds.at(-1)!.usecPerCall} µs per purchase script`);
    }
    const taken = 50_000_000 - Number(await redis.get(saleKeys(SALE).stock));
    if (taken !== shopper) problems.push(`${taken} units taken for ${shopper} orders`);

    const cuts = [...PURCHASE_STEPS.map((step) => ({ label: step.label, script: purchaseCutAfter(step.line) })), { label: "the whole script (the answer)", script: PURCHASE.source }];
    const stepRuns: number[][] = cuts.map(() => []);
    for (let repeat = 0; repeat < STEP_REPEATS; repeat++) {
      for (const [i, cut] of cuts.entries()) {
        const sale = `bench-script-step-${repeat}-${i}`;
        await publishSale(db.pool, redis, { id: sale, stock: 50_000_000, perUserLimit: 1 });
        await redis.config("RESETSTAT");
        const refused = await buyInBursts((n) => redis.eval(cut.script, ...positional(sale, purchaseArgs(sale, runId, n))));
        if (refused > 0) problems.push(`${refused} calls refused, script cut after ${cut.label}`);
        stepRuns[i]!.push(await usecPerCall(redis, "eval"));
      }
      progress(`purchase script's steps: repeat ${repeat + 1} of ${STEP_REPEATS}`);
    }
    const steps = cuts.map((cut, i) => {
      const usecUpTo = median(stepRuns[i]!);
      return { label: cut.label, usecUpTo, spreadPct: spreadPct(stepRuns[i]!, usecUpTo), runs: stepRuns[i]! };
    });
    console.log("");
    console.log("| orders the sale has taken | Redis µs per purchase script (EVALSHA) |");
    console.log("|---:|---:|");
    for (const r of rounds) console.log(`| ${r.orders} | ${r.usecPerCall} |`);
    console.log(`(one INCR in a script: ${floor} µs per call in the same run; goal ≤ 8 µs per purchase, flat as orders grow)`);
    console.log("");
    console.log("| a script of | Redis µs per script |");
    console.log("|---|---:|");
    for (const c of callCosts) console.log(`| ${c.label} | ${c.usecPerScript} |`);
    console.log("");
    console.log(`| purchase.lua up to and including | Redis µs per script (median of ${STEP_REPEATS}) | this step adds |`);
    console.log("|---|---:|---:|");
    for (const [i, step] of steps.entries()) {
      const adds = i === 0 ? step.usecUpTo : step.usecUpTo - steps[i - 1]!.usecUpTo;
      console.log(`| ${step.label} | ${step.usecUpTo.toFixed(2)} (${spreadText(step.spreadPct)}) | ${adds.toFixed(2)} |`);
    }
    console.log("(each cut answers {0, id, n} as an acceptance does; a step's share is a difference of two medians, so noise can make it negative)");
    writeResults("script-time", { incrScriptUsecPerCall: floor, callCosts, rounds, steps, problems });
    reportProblems(problems);
  } finally {
    redis.disconnect();
    await db.close();
    await server.destroy();
  }
}

runBench(main);
