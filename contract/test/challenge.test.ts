import {
  ALPHABET,
  ANSWER_LENGTH,
  CHALLENGE_TTL_SEC,
  TEXT_ANSWER_DELAY_SEC,
  answerFromBytes,
  challengeId,
  challengeWindowAt,
  isRightAnswer,
  normalizeAnswer,
  openChallenge,
  textQuestion,
  type OpenedChallenge,
} from "../src/challenge";
import { challengeSvg, challengeSvgFromBytes, randomFromBytes } from "../src/challenge_image";
import type { PublishedSale } from "../src/sale";
import { nodeJwtPlatform } from "./support/node-jwt-platform";

const mac = nodeJwtPlatform("test-secret-test-secret-test-secret-0123456789");
const NONCE = "AAAAAAAAAAAAAAAAAAAAAA";
const NOW = 1_800_000_000;

function issued(answer = "234678", saleId = "s1", userId = "alice"): string {
  return challengeId(saleId, userId, NOW, NONCE, answer, "picture", mac);
}

function opened(id: string, saleId = "s1", userId = "alice", nowSec = NOW): OpenedChallenge {
  const o = openChallenge(id, saleId, userId, nowSec, mac);
  if (typeof o === "string") throw new Error(`expected the challenge to open, got ${o}`);
  return o;
}

test("a challenge opens for its sale and user, and only its answer is right", () => {
  const o = opened(issued());
  expect(o).toEqual({ kind: "picture", expSec: NOW + CHALLENGE_TTL_SEC, nonce: NONCE, answerMac: expect.any(String) });
  expect(isRightAnswer(o, "234678", mac)).toBe(true);
  expect(isRightAnswer(o, "234 678", mac)).toBe(true);
  expect(isRightAnswer(o, "234679", mac)).toBe(false);
  expect(isRightAnswer(o, "", mac)).toBe(false);
  expect(isRightAnswer(o, "23467", mac)).toBe(false);
});

test("the id fits the purchase body's 128-character fields and does not spell the answer", () => {
  const id = issued();
  expect(id.length).toBeLessThanOrEqual(128);
  expect(id).not.toContain("234678");
  expect(challengeId("s1", "alice", NOW, NONCE, "234678", "text", mac).length).toBeLessThanOrEqual(128);
});

test("a text question opens once its delay has passed, and with the same answer check", () => {
  const id = challengeId("s1", "alice", NOW, NONCE, "234678", "text", mac);
  expect(id.startsWith(`t${NOW + CHALLENGE_TTL_SEC}.`)).toBe(true);
  expect(openChallenge(id, "s1", "alice", NOW + TEXT_ANSWER_DELAY_SEC - 0.001, mac)).toBe("too_early");
  const o = opened(id, "s1", "alice", NOW + TEXT_ANSWER_DELAY_SEC);
  expect(o.kind).toBe("text");
  expect(isRightAnswer(o, "234678", mac)).toBe(true);
  // The kind is signed: a picture's id cannot be turned into a text question's, nor back.
  expect(openChallenge("t" + issued(), "s1", "alice", NOW + 10, mac)).toBe("forged");
  expect(openChallenge(id.slice(1), "s1", "alice", NOW + 10, mac)).toBe("forged");
});

test.each([
  ["another sale", "forged", () => openChallenge(issued(), "s2", "alice", NOW, mac)],
  ["another user", "forged", () => openChallenge(issued(), "s1", "bob", NOW, mac)],
  // The user's length is signed too: "a" + "lice" cannot pass as "al" + "ice".
  ["a user id that shares a prefix", "forged", () => openChallenge(challengeId("s1", "a|b", NOW, NONCE, "2", "picture", mac), "s1", "a", NOW, mac)],
  ["a later expiry written in", "forged", () => openChallenge(issued().replace(String(NOW + CHALLENGE_TTL_SEC), String(NOW + 9999)), "s1", "alice", NOW, mac)],
  ["another secret", "forged", () => openChallenge(issued(), "s1", "alice", NOW, nodeJwtPlatform("x".repeat(40)))],
  ["at its expiry", "expired", () => openChallenge(issued(), "s1", "alice", NOW + CHALLENGE_TTL_SEC, mac)],
  ["empty", "malformed", () => openChallenge("", "s1", "alice", NOW, mac)],
  ["three parts", "malformed", () => openChallenge(issued().split(".").slice(0, 3).join("."), "s1", "alice", NOW, mac)],
  ["expiry not digits", "malformed", () => openChallenge(issued().replace(/^\d+/, "-1"), "s1", "alice", NOW, mac)],
  ["expiry 0 (truthy in Lua)", "expired", () => openChallenge(issued().replace(/^\d+/, "0"), "s1", "alice", NOW, mac)],
] as const)("%s → %s", (_name, failure, open) => {
  expect(open()).toBe(failure);
});

test("the answer's hash cannot be moved to another challenge", () => {
  const a = issued("222222").split(".");
  const b = challengeId("s1", "alice", NOW, "BBBBBBBBBBBBBBBBBBBBBB", "333333", "picture", mac).split(".");
  const spliced = [b[0], b[1], a[2], b[3]].join(".");
  expect(openChallenge(spliced, "s1", "alice", NOW, mac)).toBe("forged");
});

test("normalizeAnswer drops spaces only", () => {
  expect(normalizeAnswer(" 1 2 3 ")).toBe("123");
  expect(normalizeAnswer("0")).toBe("0");
  expect(normalizeAnswer("")).toBe("");
});

const bytes = (...b: number[]) => String.fromCharCode(...b);

test("answerFromBytes takes symbols of the alphabet, skips bytes of 252 and above (no modulo bias), needs enough bytes", () => {
  expect(ALPHABET).toBe("2346789");
  expect(answerFromBytes(bytes(0, 6, 7, 251, 13, 20))).toBe("292999");
  expect(answerFromBytes(bytes(252, 255, 1, 2, 3, 4, 5, 6))).toBe("346789");
  expect(answerFromBytes(bytes(1, 2, 3, 4, 5, 252))).toBeUndefined();
  expect(answerFromBytes(bytes(1, 2, 3, 4, 5, 6, 7))).toHaveLength(ANSWER_LENGTH);
});

test("textQuestion writes a code of eight digits that holds the answer, and says which six to type", () => {
  expect(textQuestion("234678", bytes(0, 1, 2))).toBe("The code is 3, 2, 3, 4, 6, 7, 8, 4. Type the code without its first and last digits.");
  expect(textQuestion("234678", bytes(1, 1, 2))).toBe("The code is 3, 4, 2, 3, 4, 6, 7, 8. Type the code without its first two digits.");
  expect(textQuestion("234678", bytes(2, 255, 1, 2))).toBe("The code is 2, 3, 4, 6, 7, 8, 3, 4. Type the code without its last two digits.");
  expect(textQuestion("234678", bytes(2, 1))).toBeUndefined();
});

test("challenges are issued from startsAt − lead until endsAt", () => {
  const sale = { startsAtMs: 10_000, endsAtMs: 20_000 } as PublishedSale;
  expect(challengeWindowAt(sale, 9_999, 0)).toBe("early");
  expect(challengeWindowAt(sale, 10_000, 0)).toBe("open");
  expect(challengeWindowAt(sale, 5_000, 5_000)).toBe("open");
  expect(challengeWindowAt(sale, 4_999, 5_000)).toBe("early");
  expect(challengeWindowAt(sale, 20_000, 0)).toBe("ended");
});

function seeded(seed: number): () => number {
  let s = seed;
  return () => {
    s = (s * 1103515245 + 12345) % 2147483648;
    return s / 2147483648;
  };
}

describe("the challenge picture", () => {
  const svg = challengeSvg("294768", seeded(1));

  test("is an SVG of paths only: no text, no titles, nothing but coordinates", () => {
    expect(svg.startsWith('<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 330 110"')).toBe(true);
    const elements = [...svg.matchAll(/<(\w+)/g)].map((m) => m[1]);
    expect(new Set(elements)).toEqual(new Set(["svg", "rect", "g", "path"]));
    for (const [, d] of svg.matchAll(/ d="([^"]*)"/g)) expect(d).toMatch(/^M[-\d. MLC]+$/);
  });

  test("draws every symbol's strokes among the noise", () => {
    // Strokes per symbol: 2 9 4 7 6 8 → 1 + 1 + 1 + 2 (the crossed seven) + 1 + 1; then 4 curves and 12 dashes of noise.
    expect([...svg.matchAll(/<path /g)]).toHaveLength(7 + 4 + 12);
  });

  test("never draws the same answer the same way twice", () => {
    expect(challengeSvg("294768", seeded(2))).not.toBe(svg);
    const firstPaths = (s: string) => new Set([...s.matchAll(/ d="([^"]*)"/g)].map((m) => m[1]));
    const shared = [...firstPaths(svg)].filter((d) => firstPaths(challengeSvg("294768", seeded(2))).has(d));
    expect(shared).toEqual([]);
  });

  test("is drawn from random bytes, one byte per number, reused in turn", () => {
    const rand = randomFromBytes(bytes(0, 128, 255));
    expect([rand(), rand(), rand(), rand()]).toEqual([0, 0.5, 255 / 256, 0]);
    const drawing = bytes(...Array.from({ length: 512 }, (_, i) => (i * 37) % 256));
    expect(challengeSvgFromBytes("234678", drawing)).toBe(challengeSvg("234678", randomFromBytes(drawing)));
    // No "-0.0" (LuaJIT would print it where Node prints 0.0).
    expect(challengeSvgFromBytes("234678", drawing)).not.toMatch(/-0\.0\b/);
  });
});
