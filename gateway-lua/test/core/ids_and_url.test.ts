import { isValidSaleId, isValidUserId, parseOrderId } from "../../src/core/ids";
import { parseRedisUrl } from "../../src/core/redis_url";
import { lastIndexOfCode } from "../../src/core/text";

test.each([
  ["flash-1", true],
  ["a", true],
  ["-a", false],
  ["A", false],
  ["a_b", false],
  ["", false],
  ["a".repeat(64), true],
  ["a".repeat(65), false],
  ["é", false],
])("sale id %p → %p", (id, ok) => expect(isValidSaleId(id)).toBe(ok));

test.each([
  ["user-1@example.com", true],
  ["a b", false],
  ["", false],
  ["é", false],
  ["a".repeat(128), true],
  ["a".repeat(129), false],
])("user id %p → %p", (id, ok) => expect(isValidUserId(id)).toBe(ok));

test.each([
  ["sale-1.42", { saleId: "sale-1", orderNo: "42" }],
  ["a.b.7", undefined],
  ["sale.07", undefined],
  ["sale.0", undefined],
  ["sale.", undefined],
  [".5", undefined],
  ["sale.1e3", undefined],
  ["sale.9007199254740993", undefined],
])("order id %p", (id, ref) => expect(parseOrderId(id)).toEqual(ref));

test.each([
  ["redis://127.0.0.1:6379/0", { host: "127.0.0.1", port: 6379, db: 0, password: undefined }],
  ["redis://localhost", { host: "localhost", port: 6379, db: 0, password: undefined }],
  ["redis://:s3cret@h:7000/5", { host: "h", port: 7000, db: 5, password: "s3cret" }],
  ["redis://user:pw@h/2", { host: "h", port: 6379, db: 2, password: "pw" }],
])("redis url %p", (url, addr) => expect(parseRedisUrl(url)).toEqual(addr));

test.each(["http://h", "redis://", "redis://h:0", "redis://h:99999", "redis://h/x", "redis://h:-1"])("bad redis url %p", (url) => {
  expect(typeof parseRedisUrl(url)).toBe("string");
});

test("lastIndexOfCode", () => {
  expect(lastIndexOfCode("a.b.c", 46)).toBe(3);
  expect(lastIndexOfCode("abc", 46)).toBe(-1);
  expect(lastIndexOfCode("", 46)).toBe(-1);
});
