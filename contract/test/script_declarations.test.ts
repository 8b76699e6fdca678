/**
 * Each Redis script's header (its KEYS, ARGV and reply codes) against its declaration in
 * src/scripts, so that neither drifts from the other; and one declaration per script file.
 */
import { readdirSync, readFileSync } from "node:fs";
import path from "node:path";
import * as config from "../src/scripts/config";
import * as fleet from "../src/scripts/fleet";
import * as jobs from "../src/scripts/jobs";
import * as order from "../src/scripts/order";
import * as queue from "../src/scripts/queue";
import * as sale from "../src/scripts/sale";
import type { ScriptDeclaration } from "../src/scripts/script";

const SCRIPTS = path.resolve(__dirname, "../redis-scripts");

type Declaration = ScriptDeclaration<string, string, unknown>;

const declarations: Declaration[] = [config, fleet, jobs, order, queue, sale]
  .flatMap((m) => Object.values(m as Record<string, unknown>))
  .filter((v): v is Declaration => typeof v === "object" && v !== null && "file" in v && "decode" in v);

/** "<aggregate>/<name>" of every script file (includes are not scripts). */
function scriptFiles(): string[] {
  return readdirSync(SCRIPTS, { withFileTypes: true })
    .filter((d) => d.isDirectory() && d.name !== "includes")
    .flatMap((d) => readdirSync(path.join(SCRIPTS, d.name)).map((f) => `${d.name}/${path.basename(f, ".lua")}`))
    .sort();
}

/** The header's "KEYS[n] name" (or "ARGV[n] name"; "[n ..]" for the values that follow): the first naming of each n. */
function named(header: string, kind: "KEYS" | "ARGV"): { names: string[]; more: string | undefined } {
  const byIndex = new Map<number, { name: string; more: boolean }>();
  for (const m of header.matchAll(new RegExp(`\\b${kind}\\[(\\d+)( \\.\\.)?\\]\\s+(\\w+)`, "g"))) {
    const i = Number(m[1]);
    if (!byIndex.has(i)) byIndex.set(i, { name: m[3]!, more: m[2] !== undefined });
  }
  const names: string[] = [];
  let more: string | undefined;
  for (let i = 1; byIndex.has(i); i++) {
    const entry = byIndex.get(i)!;
    if (entry.more) more = entry.name;
    else names.push(entry.name);
  }
  expect([...byIndex.keys()].sort((a, b) => a - b)).toEqual(Array.from({ length: byIndex.size }, (_, i) => i + 1));
  return { names, more };
}

/** The reply codes the header lists under "Returns": lines starting with {code or code. */
function replyCodes(header: string): number[] {
  const from = header.search(/^\s*Returns\b/m);
  expect(from).toBeGreaterThanOrEqual(0);
  const codes = header
    .slice(from)
    .split("\n")
    .map((line) => /^\s*\{?(-?\d+)[,}\s]/.exec(line.replace(/^\s*Returns\b/, "")))
    .filter((m): m is RegExpExecArray => m !== null)
    .map((m) => Number(m[1]));
  return codes.sort((a, b) => a - b);
}

test("one declaration per script file under contract/redis-scripts, and a file per declaration", () => {
  expect(declarations.map((d) => d.file).sort()).toEqual(scriptFiles());
});

test.each(declarations.map((d) => [d.file, d] as const))("%s.lua: its header names the declared KEYS, ARGV and reply codes", (file, d) => {
  const source = readFileSync(path.join(SCRIPTS, `${file}.lua`), "utf8");
  const end = source.indexOf("]]");
  expect(source.startsWith("--[[")).toBe(true);
  const header = source.slice(0, end);
  expect(named(header, "KEYS")).toEqual({ names: d.keys, more: d.moreKeys });
  expect(named(header, "ARGV")).toEqual({ names: d.args, more: d.moreArgs });
  expect(replyCodes(header)).toEqual(Object.values(d.codes).sort((a, b) => a - b));
});

test("each reply code's name is listed once, and the decoder knows every code's reply", () => {
  for (const d of declarations) {
    const codes = Object.values(d.codes);
    expect(new Set(codes).size).toBe(codes.length);
  }
  expect(order.PURCHASE.decode([-1])).toEqual({ outcome: "held", unitsLeft: undefined });
  expect(order.PAY_ORDER.decode([-1])).toEqual({ outcome: "held" });
  expect(order.PAY_ORDER.decode([0, 2, "500", "EUR"])).toEqual({ outcome: "paid", quantity: 2, price: "500", currency: "EUR" });
  expect(order.EXPIRE_RESERVATIONS.decode([-1])).toEqual({ reply: "held" });
  expect(order.EXPIRE_RESERVATIONS.decode([3, 4, 10, 1])).toEqual({ reply: "walked", expired: 3, unitsReturned: 4, cursor: 10, more: true });
  expect(order.CONFIRM_ORDERS.decode([2, 5])).toEqual({ confirmed: 2, acked: 5 });
  expect(sale.APPLY_SALE.decode([2, 0, 7, 3])).toEqual({ reply: "below_taken", left: 0, taken: 7, leftBefore: 3 });
  expect(sale.APPLY_SALE.decode([0, 9])).toEqual({ reply: "already_applied", revision: 9 });
  expect(sale.APPLY_SALE.decode([-1])).toEqual({ reply: "held" });
  expect(sale.LOWER_STOCK.decode([2, "i-1", 4])).toEqual({ reply: "other_intent", intent: "i-1", revision: 4 });
  expect(sale.LOWER_STOCK.decode([0, 3, 7])).toEqual({ reply: "refused", left: 3, taken: 7 });
  expect(sale.WITHDRAW_SALE.decode([0, 1, 2, 3])).toEqual({ reply: "refused", orders: 1, seq: 2, unacknowledged: 3 });
  expect(sale.BUCKET_TRANSFER_OUT.decode([1, 2, 5])).toEqual({ reply: "taken", units: 2, epoch: 5 });
  expect(sale.BUCKET_TRANSFER_IN.decode([-2])).toBe("rebuilt");
  expect(sale.SALE_BUILD_STATE.decode([1, 12, 0, 3])).toEqual({ built: true, seq: 12, hasStock: false, buyers: 3 });
  expect(queue.QUEUE_PLACE.decode([0, 5, 2])).toEqual({ reply: "place", position: 0, length: 5, epoch: 2 });
  expect(queue.QUEUE_PLACE.decode([-3])).toEqual({ reply: "limit_reached" });
  expect(queue.QUEUE_TICK.decode([-1])).toEqual({ reply: "not_built" });
  expect(config.PUBLISH_CONFIG.decode([0, 4])).toEqual({ reply: "kept", version: 4 });
  expect(config.PUBLISH_JWKS.decode([1, 4])).toEqual({ reply: "written", fetch: 4 });
  expect(jobs.CLAIM_JOB_TICK.decode(-1)).toBe("running");
  expect(jobs.RELEASE_JOB_LEASE.decode(0)).toBe("not_held");
});

test("a reply that is none of the script's decodes to undefined", () => {
  const odd = [[99], [], "OK", null, ["1"]];
  for (const d of [sale.APPLY_SALE, sale.LOWER_STOCK, sale.WITHDRAW_SALE, sale.BUCKET_TRANSFER_OUT, sale.BUCKET_TRANSFER_IN, queue.QUEUE_PLACE, config.PUBLISH_CONFIG, jobs.CLAIM_JOB_TICK]) {
    for (const reply of odd) expect([d.file, d.decode(reply)]).toEqual([d.file, undefined]);
  }
});
