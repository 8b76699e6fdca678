import { formatOrderId, isValidSaleId, isValidUserId, ORDER_ID_PATTERN, parseOrderId, SALE_ID_PATTERN } from "../src/ids";
import { formatOrderRecord, parseOrderRecord } from "../src/order_record";
import { parseRedisUrl } from "../src/redis_url";
import { decimalValue, lastIndexOfCode } from "../src/text";

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
  ["sale-1.3.42", { saleId: "sale-1", epoch: "3", orderNo: "42" }],
  ["s.123456789012345.123456789012345", { saleId: "s", epoch: "123456789012345", orderNo: "123456789012345" }],
  ["sale-1.42", undefined],
  ["a.b.7", undefined],
  ["a.b.c.7", undefined],
  ["sale.1.07", undefined],
  ["sale.01.7", undefined],
  ["sale.0.1", undefined],
  ["sale.1.", undefined],
  ["sale..1", undefined],
  [".1.5", undefined],
  ["sale.1.1e3", undefined],
  ["sale.1.9007199254740993", undefined],
])("order id %p", (id, ref) => expect(parseOrderId(id)).toEqual(ref));

test.each([
  ["sale-1", 3, 42, "sale-1.3.42"],
  ["s", 99999999999999, 99999999999999, "s.99999999999999.99999999999999"],
])("formatOrderId(%p, %p, %p) = %p, and parses back", (sale, epoch, n, id) => {
  expect(formatOrderId(sale, epoch, n)).toBe(id);
  expect(parseOrderId(id)).toEqual({ saleId: sale, epoch: String(epoch), orderNo: String(n) });
});

test.each([
  ["u-1\t2\t1796160138574\t7\t5999\tEUR", { userId: "u-1", quantity: 2, acceptedAtMs: 1796160138574, epoch: 7, price: 5999, currency: "EUR" }],
  ["u-1\t2\t1796160138574\t7\t0\tJPY", { userId: "u-1", quantity: 2, acceptedAtMs: 1796160138574, epoch: 7, price: 0, currency: "JPY" }],
  ["u-1\t2\t1796160138574", undefined],
  ["u-1\t2\t1796160138574\t7\tx", undefined],
  ["u-1\t2\t1796160138574\t7\t100", undefined],
  ["u-1\t2\t1796160138574\t7\tx\tUSD", undefined],
  ["u-1\t2\t1796160138574\t7\t100\t", undefined],
  ["u-1\t2\t1796160138574\t7\t100\tUSD\tx", undefined],
  ["\t2\t1\t7\t100\tUSD", undefined],
  ["u\tx\t1\t7\t100\tUSD", undefined],
])("order record %p", (text, record) => {
  expect(parseOrderRecord(text)).toEqual(record);
  if (record !== undefined) expect(formatOrderRecord(record)).toBe(text);
});

test("an order record of four parts (written before orders carried their price) reads with the price unknown", () => {
  expect(parseOrderRecord("u-1\t2\t1796160138574\t7")).toEqual({ userId: "u-1", quantity: 2, acceptedAtMs: 1796160138574, epoch: 7 });
  expect(parseOrderRecord("\t2\t1\t7")).toBeUndefined();
  expect(parseOrderRecord("u\tx\t1\t7")).toBeUndefined();
});

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

test("the id patterns (nginx routes, OpenAPI) accept what isValidSaleId and parseOrderId accept", () => {
  const sale = new RegExp(`^${SALE_ID_PATTERN}$`);
  const order = new RegExp(`^${ORDER_ID_PATTERN}$`);
  for (const id of ["flash-1", "a", "0", "a-", "-a", "A", "a_b", "a.b", "", "a".repeat(64), "a".repeat(65), "é"]) {
    expect({ id, matches: sale.test(id) }).toEqual({ id, matches: isValidSaleId(id) });
  }
  for (const id of ["s.1.1", "sale-1.3.42", "s.123456789012345.1", "s.1.1234567890123456", "s.0.1", "s.1.01", "s.1", "-s.1.1", "s.1.1.1", `${"a".repeat(65)}.1.1`]) {
    expect({ id, matches: order.test(id) }).toEqual({ id, matches: parseOrderId(id) !== undefined });
  }
});

test("decimalValue: plain digits only, within the length, the same in Node and Lua", () => {
  expect(decimalValue("0", 5)).toBe(0);
  expect(decimalValue("65535", 5)).toBe(65535);
  expect(decimalValue("999999999999999", 15)).toBe(999999999999999);
  for (const s of ["", "123456", "-1", "+1", " 1", "1.0", "1e3", "0x1f", "１"]) expect(decimalValue(s, 5)).toBeUndefined();
});
