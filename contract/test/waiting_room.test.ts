import {
  SOLD_OUT_RETRY_MS,
  admittedAt,
  openQueuePass,
  openQueueTicket,
  queueAnswer,
  queueAnswerJson,
  queuePass,
  queueTicket,
  queueWindowAt,
  type QueueState,
} from "../src/waiting_room";
import type { WaitingRoom } from "../src/sale";
import { nodeJwtPlatform } from "./support/node-jwt-platform";

const mac = nodeJwtPlatform("test-secret-test-secret-test-secret-0123456789");
const room: WaitingRoom = { opensBeforeSeconds: 60, admitPerSecond: 10, passSeconds: 30 };
const sale = { startsAtMs: 1_800_000_000_000, endsAtMs: 1_800_003_600_000 };
const START = sale.startsAtMs;
const state = (s: Partial<QueueState> = {}): QueueState => ({ admitted: 0, settled: 0, unitsLeft: 100, buyers: 0, expired: 0, ...s });

test("the queue opens opensBeforeSeconds before the start and admits from the start to the end", () => {
  expect(queueWindowAt(sale, room, START - 60_001)).toBe("early");
  expect(queueWindowAt(sale, room, START - 60_000)).toBe("before_start");
  expect(queueWindowAt(sale, room, START - 1)).toBe("before_start");
  expect(queueWindowAt(sale, room, START)).toBe("admitting");
  expect(queueWindowAt(sale, room, sale.endsAtMs)).toBe("ended");
});

test("before the start a shopper waits without a position, until about the start (spread by the jitter)", () => {
  expect(queueAnswer("before_start", room, START, undefined, state(), undefined, START - 3000, 0)).toEqual({ status: "waiting", retryAfterMs: 3000 });
  expect(queueAnswer("before_start", room, START, undefined, state(), undefined, START - 3000, 0.5)).toEqual({ status: "waiting", retryAfterMs: 3500 });
  expect(queueAnswer("before_start", room, START, undefined, state(), undefined, START - 3_600_000, 0).retryAfterMs).toBe(15000);
  // After the start, a shopper whose place is not read yet waits too (the handler reads it).
  expect(queueAnswer("admitting", room, START, undefined, state(), undefined, START + 10, 0)).toEqual({ status: "waiting", retryAfterMs: 250 });
});

test("waiting: shoppers ahead, an ETA by the rate, and polls every 1-5 s by the wait", () => {
  expect(queueAnswer("admitting", room, START, 51, state({ admitted: 20 }), undefined, START + 2000, 0)).toEqual({
    status: "waiting",
    position: 51,
    ahead: 30,
    etaSeconds: 4, // 31 shoppers to admit at 10/s
    retryAfterMs: 1000,
  });
  expect(queueAnswer("admitting", room, START, 1001, state({ admitted: 20 }), undefined, START, 0).retryAfterMs).toBe(5000);
  expect(queueAnswer("admitting", room, START, 1001, state({ admitted: 20 }), undefined, START, 0.99).retryAfterMs).toBe(5247);
});

test("waiting while the passes out cover every unit left: polls every half second (sold out may come any moment)", () => {
  // 20 admitted, 5 bought, 5 expired: 10 passes out for 10 units.
  const held = state({ admitted: 20, buyers: 5, expired: 5, unitsLeft: 10 });
  expect(queueAnswer("admitting", room, START, 1001, held, undefined, START, 0).retryAfterMs).toBe(500);
  expect(queueAnswer("admitting", room, START, 1001, { ...held, unitsLeft: 11 }, undefined, START, 0).retryAfterMs).toBe(5000);
});

test("admitted: a pass valid passSeconds from the admission; after that the turn has passed", () => {
  const s = state({ admitted: 20 });
  expect(queueAnswer("admitting", room, START, 20, s, START + 2000, START + 2500, 0)).toEqual({
    status: "admitted",
    position: 20,
    ahead: 0,
    passExpiresAtMs: START + 32_000,
    retryAfterMs: 5000,
  });
  expect(queueAnswer("admitting", room, START, 20, s, START + 2000, START + 32_000, 0)).toEqual({ status: "ended", position: 20, passExpiresAtMs: START + 32_000 });
  expect(queueAnswer("admitting", room, START, 20, state({ admitted: 30, settled: 20 }), undefined, START + 40_000, 0)).toEqual({ status: "ended", position: 20 });
});

test("sold out (0 units left) answers everyone, admitted or not, and looks again later; the end ends everything", () => {
  for (const position of [undefined, 1, 500]) {
    expect(queueAnswer("admitting", room, START, position, state({ admitted: 20, unitsLeft: 0 }), START, START + 1, 0)).toEqual({
      status: "sold_out",
      position,
      retryAfterMs: SOLD_OUT_RETRY_MS,
    });
  }
  expect(queueAnswer("ended", room, START, 5, state({ admitted: 20 }), START, sale.endsAtMs, 0)).toEqual({ status: "ended" });
});

test("a ticket carries the epoch and position for its sale and user only", () => {
  const t = queueTicket("s1", "alice", 3, 42, mac);
  expect(t).toMatch(/^3\.42\.[A-Za-z0-9_-]{43}$/);
  expect(openQueueTicket(t, "s1", "alice", mac)).toEqual({ epoch: 3, position: 42 });
  expect(openQueueTicket(queueTicket("s1", "alice", 3, 0, mac), "s1", "alice", mac)).toEqual({ epoch: 3, position: 0 });
  expect(openQueueTicket(t, "s2", "alice", mac)).toBeUndefined();
  expect(openQueueTicket(t, "s1", "bob", mac)).toBeUndefined();
  expect(openQueueTicket(t.replace(/^3\.42/, "3.41"), "s1", "alice", mac)).toBeUndefined();
  // Another epoch's ticket (the queue before a rebuild) does not pass for this one's.
  expect(openQueueTicket(t.replace(/^3\./, "4."), "s1", "alice", mac)).toBeUndefined();
  const tag = t.split(".")[2]!;
  for (const bad of ["", ".", "42", "42.", "3.42", "3.42.", "x.abc", "3.-1." + tag, "-3.1." + tag, "3." + "1".repeat(16) + "." + tag, "3..42." + tag]) {
    expect(openQueueTicket(bad, "s1", "alice", mac)).toBeUndefined();
  }
  // The separator in the signed text keeps "a|b" apart from user "b" of sale "s1|a".
  expect(openQueueTicket(queueTicket("s1", "a|b", 3, 1, mac), "s1|a", "b", mac)).toBeUndefined();
});

test("a pass opens for its sale and user until it expires and names its epoch; anything else is forged or malformed", () => {
  const exp = START + 30_000;
  const p = queuePass("s1", "alice", 3, 7, exp, mac);
  expect(p.length).toBeLessThanOrEqual(128); // the purchase body's field limit
  expect(openQueuePass(p, "s1", "alice", exp - 1, mac)).toEqual({ epoch: 3, position: 7, expiresAtMs: exp });
  expect(openQueuePass(p, "s1", "alice", exp, mac)).toBe("expired");
  expect(openQueuePass(p, "s2", "alice", START, mac)).toBe("forged");
  expect(openQueuePass(p, "s1", "bob", START, mac)).toBe("forged");
  expect(openQueuePass(p.replace(/^3\.\d+/, "3." + String(exp + 60_000)), "s1", "alice", START, mac)).toBe("forged");
  expect(openQueuePass(p.replace(/\.7\./, ".8."), "s1", "alice", START, mac)).toBe("forged");
  expect(openQueuePass(p.replace(/^3\./, "4."), "s1", "alice", START, mac)).toBe("forged");
  // A ticket is no pass, and a pass no ticket.
  expect(openQueuePass(queueTicket("s1", "alice", 3, 7, mac), "s1", "alice", START, mac)).toBe("malformed");
  expect(openQueueTicket(p, "s1", "alice", mac)).toBeUndefined();
  for (const bad of ["", "x", "1.2", "1..x", "a.1.x", "1.a.x", "1.2.3", "1.2.a.x", "a.2.3.x", "1.2..x"]) expect(openQueuePass(bad, "s1", "alice", START, mac)).toBe("malformed");
});

test("a position's admission time is the first time the cursor reached it", () => {
  const cursors = [3, 5, 9];
  const times = [100, 200, 300];
  expect([1, 3, 4, 5, 6, 9].map((p) => admittedAt(cursors, times, p))).toEqual([100, 100, 200, 200, 300, 300]);
  expect(admittedAt(cursors, times, 10)).toBeUndefined();
  expect(admittedAt([], [], 1)).toBeUndefined();
});

test("a poll's body is the JSON of the answer, the ticket and the pass, with whole numbers", () => {
  const ticket = queueTicket("s1", "alice", 3, 42, mac);
  const waiting = queueAnswer("admitting", room, START, 42, state({ admitted: 10 }), undefined, START + 5_000, 0.5);
  expect(JSON.parse(queueAnswerJson(waiting, ticket, undefined, undefined, String))).toEqual({ ...waiting, ticket });
  const admitted = { status: "admitted" as const, position: 7, ahead: 0, passExpiresAtMs: START + 30_000, retryAfterMs: 5_000 };
  const pass = queuePass("s1", "alice", 3, 7, START + 30_000, mac);
  expect(JSON.parse(queueAnswerJson(admitted, ticket, pass, "2027-01-15T08:00:30.000Z", String))).toEqual({
    status: "admitted",
    position: 7,
    ahead: 0,
    retryAfterMs: 5_000,
    ticket,
    pass,
    passExpiresAt: "2027-01-15T08:00:30.000Z",
  });
  // Before the start the retry time comes from a clock with a fraction of a millisecond.
  expect(JSON.parse(queueAnswerJson({ status: "waiting", retryAfterMs: 1234.7 }, undefined, undefined, undefined, String))).toEqual({ status: "waiting", retryAfterMs: 1234 });
  expect(JSON.parse(queueAnswerJson({ status: "sold_out", retryAfterMs: SOLD_OUT_RETRY_MS }, undefined, undefined, undefined, String))).toEqual({ status: "sold_out", retryAfterMs: SOLD_OUT_RETRY_MS });
});
