import { isJsonContentType, parsePurchaseBody } from "../src/purchase_request";

test.each([
  ["application/json", true],
  ["application/json; charset=utf-8", true],
  ["Application/JSON", true],
  ["application/jsonx", false],
  ["text/plain", false],
  ["", false],
  [undefined, false],
])("content type %p → %p", (ct, ok) => {
  expect(isJsonContentType(ct)).toBe(ok);
});

test("a good body", () => {
  expect(parsePurchaseBody({ quantity: 2, challengeId: "c", answer: "a" }, 2)).toEqual({ quantity: 2, challengeId: "c", answer: "a" });
  expect(parsePurchaseBody({ quantity: 1, pass: "p" }, 2)).toEqual({ quantity: 1, pass: "p" });
});

test.each([
  // 0 and "" are truthy in Lua: each must still be refused by an explicit check.
  ["quantity 0", { quantity: 0 }],
  ["quantity -1", { quantity: -1 }],
  ["quantity 1.5", { quantity: 1.5 }],
  ["quantity 1e9", { quantity: 1e9 }],
  ["quantity NaN", { quantity: NaN }],
  ["quantity Infinity", { quantity: Infinity }],
  ["quantity text", { quantity: "1" }],
  ["quantity empty text", { quantity: "" }],
  ["quantity missing", {}],
  ["quantity over the limit", { quantity: 3 }],
  ["unknown field", { quantity: 1, x: 1 }],
  ["empty challengeId", { quantity: 1, challengeId: "" }],
  ["long answer", { quantity: 1, answer: "a".repeat(129) }],
  ["long pass", { quantity: 1, pass: "p".repeat(129) }],
  ["pass not a string", { quantity: 1, pass: 7 }],
  ["array", [1]],
  ["null", null],
  ["number", 1],
])("%s → a message", (_n, body) => {
  expect(typeof parsePurchaseBody(body, 2)).toBe("string");
});
