import {
  ANSWER_DIGITS,
  CHALLENGE_TTL_SEC,
  challengeId,
  challengeWindowAt,
  digitsFromBytes,
  isRightAnswer,
  normalizeAnswer,
  openChallenge,
  type OpenedChallenge,
} from "../../src/core/challenge";
import { challengeSvg } from "../../src/core/challenge_image";
import type { PublishedSale } from "../../src/core/sale";
import { nodeJwtPlatform } from "../support/node-jwt-platform";

const mac = nodeJwtPlatform("test-secret-test-secret-test-secret-0123456789");
const NONCE = "AAAAAAAAAAAAAAAAAAAAAA";
const NOW = 1_800_000_000;

function issued(answer = "12345", saleId = "s1", userId = "alice"): string {
  return challengeId(saleId, userId, NOW, NONCE, answer, mac);
}

function opened(id: string, saleId = "s1", userId = "alice", nowSec = NOW): OpenedChallenge {
  const o = openChallenge(id, saleId, userId, nowSec, mac);
  if (typeof o === "string") throw new Error(`expected the challenge to open, got ${o}`);
  return o;
}

test("a challenge opens for its sale and user, and only its answer is right", () => {
  const o = opened(issued());
  expect(o).toEqual({ expSec: NOW + CHALLENGE_TTL_SEC, nonce: NONCE, answerMac: expect.any(String) });
  expect(isRightAnswer(o, "12345", mac)).toBe(true);
  expect(isRightAnswer(o, "12 345", mac)).toBe(true);
  expect(isRightAnswer(o, "12346", mac)).toBe(false);
  expect(isRightAnswer(o, "", mac)).toBe(false);
  expect(isRightAnswer(o, "1234", mac)).toBe(false);
});

test("the id fits the purchase body's 128-character fields and does not spell the answer", () => {
  const id = issued();
  expect(id.length).toBeLessThanOrEqual(128);
  expect(id).not.toContain("12345");
});

test.each([
  ["another sale", "forged", () => openChallenge(issued(), "s2", "alice", NOW, mac)],
  ["another user", "forged", () => openChallenge(issued(), "s1", "bob", NOW, mac)],
  // The user's length is signed too: "a" + "lice" cannot pass as "al" + "ice".
  ["a user id that shares a prefix", "forged", () => openChallenge(challengeId("s1", "a|b", NOW, NONCE, "1", mac), "s1", "a", NOW, mac)],
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
  const a = issued("11111").split(".");
  const b = challengeId("s1", "alice", NOW, "BBBBBBBBBBBBBBBBBBBBBB", "22222", mac).split(".");
  const spliced = [b[0], b[1], a[2], b[3]].join(".");
  expect(openChallenge(spliced, "s1", "alice", NOW, mac)).toBe("forged");
});

test("normalizeAnswer drops spaces only", () => {
  expect(normalizeAnswer(" 1 2 3 ")).toBe("123");
  expect(normalizeAnswer("0")).toBe("0");
  expect(normalizeAnswer("")).toBe("");
});

test("digitsFromBytes skips bytes of 250 and above (no modulo bias) and needs enough bytes", () => {
  const bytes = (...b: number[]) => String.fromCharCode(...b);
  expect(digitsFromBytes(bytes(0, 9, 10, 249, 123))).toBe("09093");
  expect(digitsFromBytes(bytes(250, 255, 1, 2, 3, 4, 5))).toBe("12345");
  expect(digitsFromBytes(bytes(1, 2, 3, 250))).toBeUndefined();
  expect(digitsFromBytes(bytes(1, 2, 3, 4, 5, 6, 7))).toHaveLength(ANSWER_DIGITS);
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
  const svg = challengeSvg("40719", seeded(1));

  test("is an SVG of paths only: no text, no titles, nothing but coordinates", () => {
    expect(svg.startsWith('<svg xmlns="http://www.w3.org/2000/svg"')).toBe(true);
    const elements = [...svg.matchAll(/<(\w+)/g)].map((m) => m[1]);
    expect(new Set(elements)).toEqual(new Set(["svg", "rect", "g", "path"]));
    for (const [, d] of svg.matchAll(/ d="([^"]*)"/g)) expect(d).toMatch(/^M[-\d. MLC]+$/);
  });

  test("draws every digit's strokes among the noise", () => {
    // Strokes per digit: 4 0 7 1 9 → 1 + 1 + 1 + 2 + 1; then 5 curves and 14 dashes of noise.
    expect([...svg.matchAll(/<path /g)]).toHaveLength(6 + 5 + 14);
  });

  test("never draws the same answer the same way twice", () => {
    expect(challengeSvg("40719", seeded(2))).not.toBe(svg);
    const firstPaths = (s: string) => new Set([...s.matchAll(/ d="([^"]*)"/g)].map((m) => m[1]));
    const shared = [...firstPaths(svg)].filter((d) => firstPaths(challengeSvg("40719", seeded(2))).has(d));
    expect(shared).toEqual([]);
  });
});
