/**
 * Purchase challenges through the real gateway: issued only from the sale's start (or the
 * configured lead), bound to the user and the sale, expiring, answered once; a refused answer
 * writes nothing. The text question answers like the picture, not before its delay; a shopper
 * holding the limit gets no challenge (409), and nothing is written. A second gateway on the same Redis shows that a solved challenge buys once
 * across gateways. Ends by counting the sale.
 */
import { ERROR_CATALOGUE, type ErrorCode } from "@flash-sale/contract/errors";
import { CHALLENGE_TTL_SEC, TEXT_ANSWER_DELAY_SEC } from "@flash-sale/contract/challenge";
import { Gateway, LOAD_TEST_KNOBS, waitForSale } from "./support/gateway";
import { TestStack } from "./support/test-stack";
import { useStack } from "./support/use-stack";
import { waitFor } from "./support/stream-fixtures";
import { balancedCount, countSale, snapshot, waitForRows } from "./support/counts";
import { purchase, request, type HttpResponse } from "./support/http";
import { signToken } from "./support/tokens";
import { mintChallenge, solveChallenge, wrongAnswer } from "./support/challenges";

let otherGateway: Gateway;

const SALE = "ch-open";
const OTHER_SALE = "ch-other";
const LEAD_SEC = 60;
const limits = { userRatePerSecond: 10000, userBurst: 10000, admitPerSecond: 100000 };
const alice = { id: "alice", token: signToken("alice") };
const bob = { id: "bob", token: signToken("bob") };
const carol = { id: "carol", token: signToken("carol") };
const dave = { id: "dave", token: signToken("dave") };

const knobs = { ...LOAD_TEST_KNOBS, challenge_lead_seconds: String(LEAD_SEC) };
const stack = useStack(new TestStack({ name: "challenge", knobs, worker: {} }), async () => {
  otherGateway = await stack.startGateway(knobs);
  const now = Date.now();
  await stack.controlPlane.createSale({ id: SALE, stock: 10, perUserLimit: 3, challenge: true, limits });
  await stack.controlPlane.createSale({ id: OTHER_SALE, stock: 10, challenge: true, limits });
  await stack.controlPlane.createSale({ id: "ch-plain", stock: 10, limits });
  await stack.controlPlane.createSale({
    id: "ch-later",
    stock: 10,
    challenge: true,
    startsAt: new Date(now + 3_600_000).toISOString(),
    endsAt: new Date(now + 7_200_000).toISOString(),
  });
  await stack.controlPlane.createSale({
    id: "ch-soon",
    stock: 10,
    challenge: true,
    startsAt: new Date(now + (LEAD_SEC / 2) * 1000).toISOString(),
    endsAt: new Date(now + 3_600_000).toISOString(),
  });
  await stack.controlPlane.createSale({
    id: "ch-ended",
    stock: 10,
    challenge: true,
    startsAt: new Date(now - 7_200_000).toISOString(),
    endsAt: new Date(now - 3_600_000).toISOString(),
  });
  for (const g of [stack.gateway, otherGateway]) {
    for (const id of [SALE, OTHER_SALE, "ch-plain", "ch-later", "ch-soon", "ch-ended"]) await waitForSale(g, id);
  }
});

function fetchChallenge(saleId: string, token: string | undefined, g: Gateway = stack.gateway, body = "{}"): Promise<HttpResponse> {
  const headers: Record<string, string> = { "Content-Type": "application/json" };
  if (token !== undefined) headers.Authorization = `Bearer ${token}`;
  return request(`${g.url}/api/sales/${saleId}/challenge`, { method: "POST", headers, body });
}

async function issued(saleId: string, user: { id: string; token: string }): Promise<{ challengeId: string; answer: string }> {
  const res = await fetchChallenge(saleId, user.token);
  expect(res.status).toBe(200);
  const challengeId = res.json().challengeId as string;
  return { challengeId, answer: solveChallenge(challengeId, saleId, user.id) };
}

function buy(saleId: string, token: string, challengeId: string, answer: string, g: Gateway = stack.gateway): Promise<HttpResponse> {
  return purchase(g.url, saleId, token, { quantity: 1, challengeId, answer });
}

/** Buys, then waits until the worker has confirmed the order, so that it writes nothing while a refusal is checked. */
async function buyAndSettle(saleId: string, user: { token: string }, challengeId: string, answer: string, g: Gateway = stack.gateway): Promise<void> {
  const res = await buy(saleId, user.token, challengeId, answer, g);
  expect(res.status).toBe(202);
  const orderId = res.json().orderId as string;
  await waitFor(`order ${orderId} confirmed`, async () => {
    const order = await request(`${g.url}/api/orders/${orderId}`, { headers: { Authorization: `Bearer ${user.token}` } });
    return order.json().status === "confirmed";
  });
}

/** Sends, checks the catalogue error, that nothing was written, and that no gateway logged an error. */
async function expectRefused(send: () => Promise<HttpResponse>, code: ErrorCode): Promise<HttpResponse> {
  const before = await snapshot(stack.redis, stack.db.pool);
  const logLines = [stack.gateway.errorLines().length, otherGateway.errorLines().length];
  const res = await send();
  expect({ status: res.status, error: res.json().error }).toEqual({ status: ERROR_CATALOGUE[code].status, error: code });
  expect(res.headers["cache-control"]).toBe("no-store");
  expect(await snapshot(stack.redis, stack.db.pool)).toBe(before);
  expect(stack.gateway.errorLines().slice(logLines[0])).toEqual([]);
  expect(otherGateway.errorLines().slice(logLines[1])).toEqual([]);
  return res;
}

describe("issuing", () => {
  test("a challenge is a picture and an id, never cached; neither spells the answer", async () => {
    const before = Date.now();
    const res = await fetchChallenge(SALE, alice.token);
    expect(res.status).toBe(200);
    expect(res.headers["cache-control"]).toBe("no-store");
    const body = res.json() as { challengeId: string; image: string; expiresAt: string };
    expect(Object.keys(body).sort()).toEqual(["challengeId", "expiresAt", "image", "kind"]);
    expect(body).toMatchObject({ kind: "picture" });
    expect(body.image).toMatch(/^data:image\/svg\+xml;base64,/);
    const svg = Buffer.from(body.image.split(",")[1]!, "base64").toString("utf8");
    expect(svg).toMatch(/^<svg xmlns="http:\/\/www.w3.org\/2000\/svg"/);
    expect(svg).not.toMatch(/<text|<title|<desc|<use|<image/);
    const answer = solveChallenge(body.challengeId, SALE, alice.id);
    expect(res.text).not.toContain(answer);
    expect(svg).not.toContain(answer);
    const expiresIn = Date.parse(body.expiresAt) - before;
    expect(expiresIn).toBeGreaterThan((CHALLENGE_TTL_SEC - 2) * 1000);
    expect(expiresIn).toBeLessThanOrEqual((CHALLENGE_TTL_SEC + 1) * 1000);
  });

  test("cannot be fetched before its time: 425 with startsAt", async () => {
    const res = await expectRefused(() => fetchChallenge("ch-later", alice.token), "not_started");
    expect(res.json().startsAt).toBe(new Date(Date.parse(res.json().startsAt)).toISOString());
  });

  test("is issued within the configured lead before the start, but buys nothing before it", async () => {
    const res = await fetchChallenge("ch-soon", alice.token);
    expect(res.status).toBe(200);
    const challengeId = res.json().challengeId as string;
    await expectRefused(() => buy("ch-soon", alice.token, challengeId, solveChallenge(challengeId, "ch-soon", alice.id)), "not_started");
  });

  test("not after the end: 410 sale_ended", async () => {
    await expectRefused(() => fetchChallenge("ch-ended", alice.token), "sale_ended");
  });

  test("only to a logged-in shopper: 401", async () => {
    await expectRefused(() => fetchChallenge(SALE, undefined), "unauthorized");
  });

  test("only for a sale that asks for one: 404", async () => {
    await expectRefused(() => fetchChallenge("ch-plain", alice.token), "not_found");
    await expectRefused(() => fetchChallenge("no-such-sale", alice.token), "sale_not_found");
  });

  test("only by POST: 405", async () => {
    await expectRefused(() => request(`${stack.gateway.url}/api/sales/${SALE}/challenge`), "method_not_allowed");
  });

  test("of a kind it knows: another body is 400", async () => {
    await expectRefused(() => fetchChallenge(SALE, alice.token, stack.gateway, '{"kind":"audio"}'), "bad_request");
    await expectRefused(() => fetchChallenge(SALE, alice.token, stack.gateway, "not json"), "bad_request");
  });
});

describe("the text question, for shoppers who cannot use the picture", () => {
  const QUESTION = /^The code is ([2-9](?:, [2-9]){7})\. Type the code without its (first and last|first two|last two) digits\.$/;

  /** What a person (or a script) reads from the question. */
  function answerOf(question: string): string {
    const [, code, which] = QUESTION.exec(question)!;
    const digits = code!.split(", ").join("");
    return which === "first and last" ? digits.slice(1, -1) : which === "first two" ? digits.slice(2) : digits.slice(0, -2);
  }

  test("is text, signed like the picture, with the answer the same odds: six of seven symbols", async () => {
    const before = Date.now();
    const res = await fetchChallenge(OTHER_SALE, carol.token, stack.gateway, '{"kind":"text"}');
    expect(res.status).toBe(200);
    const body = res.json() as { challengeId: string; kind: string; question: string; expiresAt: string; answerableAt: string };
    expect(Object.keys(body).sort()).toEqual(["answerableAt", "challengeId", "expiresAt", "kind", "question"]);
    expect(body.kind).toBe("text");
    expect(body.question).toMatch(QUESTION);
    expect(answerOf(body.question)).toBe(solveChallenge(body.challengeId, OTHER_SALE, carol.id));
    expect(Date.parse(body.answerableAt) - Date.parse(body.expiresAt)).toBe((TEXT_ANSWER_DELAY_SEC - CHALLENGE_TTL_SEC) * 1000);
    expect(Date.parse(body.answerableAt)).toBeGreaterThanOrEqual(Math.floor(before / 1000) * 1000 + TEXT_ANSWER_DELAY_SEC * 1000);
  });

  test("answered before its delay: refused, nothing written and nothing spent; after it, the same answer buys", async () => {
    const res = await fetchChallenge(OTHER_SALE, carol.token, stack.gateway, '{"kind":"text"}');
    const { challengeId, question, answerableAt } = res.json() as { challengeId: string; question: string; answerableAt: string };
    const early = await expectRefused(() => buy(OTHER_SALE, carol.token, challengeId, answerOf(question)), "challenge_failed");
    expect(early.json().message).toMatch(/can be answered 3 s after/);
    await new Promise((r) => setTimeout(r, Math.max(0, Date.parse(answerableAt) - Date.now()) + 50));
    await buyAndSettle(OTHER_SALE, carol, challengeId, answerOf(question));
  });
});

describe("eligibility before effort", () => {
  test("a shopper who holds the sale's per-user limit hears 409 limit_reached before any challenge; nothing is written", async () => {
    const { challengeId, answer } = await issued(OTHER_SALE, dave);
    await buyAndSettle(OTHER_SALE, dave, challengeId, answer);
    const res = await expectRefused(() => fetchChallenge(OTHER_SALE, dave.token), "limit_reached");
    expect(res.json().message).toMatch(/most units this sale allows/);
    await expectRefused(() => fetchChallenge(OTHER_SALE, dave.token, stack.gateway, '{"kind":"text"}'), "limit_reached");
    // In a sale where the shopper holds less than its limit, a challenge is issued as before.
    expect((await fetchChallenge(SALE, dave.token)).status).toBe(200);
  });
});

describe("answering", () => {
  test("a purchase without an answer is refused: 403", async () => {
    const res = await expectRefused(() => purchase(stack.gateway.url, SALE, alice.token, { quantity: 1 }), "challenge_failed");
    expect(res.json().message).toMatch(/\/api\/sales\/ch-open\/challenge/);
  });

  test("a wrong answer is refused, and the challenge is spent: the right answer after it is refused too", async () => {
    const { challengeId, answer } = await issued(SALE, alice);
    const wrong = await expectRefused(() => buy(SALE, alice.token, challengeId, wrongAnswer(answer)), "challenge_failed");
    expect(wrong.json().message).toMatch(/wrong/);
    const again = await expectRefused(() => buy(SALE, alice.token, challengeId, answer), "challenge_failed");
    expect(again.json().message).toMatch(/answered already/);
  });

  test("the right answer buys; the same challenge cannot be answered twice", async () => {
    const { challengeId, answer } = await issued(SALE, alice);
    await buyAndSettle(SALE, alice, challengeId, ` ${answer.slice(0, 2)} ${answer.slice(2)}`);
    await expectRefused(() => buy(SALE, alice.token, challengeId, answer), "challenge_failed");
  });

  test("cannot be used by another user", async () => {
    const { challengeId, answer } = await issued(SALE, alice);
    const res = await expectRefused(() => buy(SALE, bob.token, challengeId, answer), "challenge_failed");
    expect(res.json().message).toMatch(/not issued to you/);
  });

  test("cannot be used for another sale", async () => {
    const { challengeId, answer } = await issued(SALE, alice);
    await expectRefused(() => buy(OTHER_SALE, alice.token, challengeId, answer), "challenge_failed");
  });

  test("an expired challenge is refused, even with its answer", async () => {
    const challengeId = mintChallenge(SALE, alice.id, Date.now() / 1000 - CHALLENGE_TTL_SEC - 1, "234678");
    const res = await expectRefused(() => buy(SALE, alice.token, challengeId, "234678"), "challenge_failed");
    expect(res.json().message).toMatch(/expired/);
  });

  test("a forged or mangled id is refused", async () => {
    const { challengeId, answer } = await issued(SALE, bob);
    const [exp, nonce, answerMac, tag] = challengeId.split(".");
    const later = `${Number(exp) + 3600}.${nonce}.${answerMac}.${tag}`;
    await expectRefused(() => buy(SALE, bob.token, later, answer), "challenge_failed");
    await expectRefused(() => buy(SALE, bob.token, "x".repeat(94), answer), "challenge_failed");
  });

  test("a solved challenge buys once across gateways: the replay on another gateway is refused by Redis", async () => {
    const { challengeId, answer } = await issued(SALE, bob);
    await buyAndSettle(SALE, bob, challengeId, answer, stack.gateway);
    const res = await expectRefused(() => buy(SALE, bob.token, challengeId, answer, otherGateway), "challenge_failed");
    expect(res.json().message).toMatch(/used already/);
  });
});

test("the sales count: two units of one sold, to alice and bob, two of the other, to carol and dave, in Redis and in Postgres", async () => {
  await waitForRows(stack.db.pool, SALE, 2);
  expect(await countSale(stack.redis, stack.db.pool, SALE)).toEqual(balancedCount(2, 8));
  await waitForRows(stack.db.pool, OTHER_SALE, 2);
  expect(await countSale(stack.redis, stack.db.pool, OTHER_SALE)).toEqual(balancedCount(2, 8));
  const marks = await stack.redis.keys(`fs:{sale:${SALE}}:challenge:*`);
  expect(marks).toHaveLength(2);
  for (const key of marks) {
    const ttl = await stack.redis.pttl(key);
    expect(ttl).toBeGreaterThan(0);
    expect(ttl).toBeLessThanOrEqual(CHALLENGE_TTL_SEC * 1000);
  }
  expect(stack.gateway.errorLines()).toEqual([]);
  expect(otherGateway.errorLines()).toEqual([]);
});
