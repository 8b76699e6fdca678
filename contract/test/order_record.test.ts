import { formatOrderRecord, newestOrderNumbers, parseOrderRecord } from "../src/order_record";

test("an order record reads back as written, with its price and currency", () => {
  const r = { userId: "u\u00e9", quantity: 2, acceptedAtMs: 1_796_160_138_574, epoch: 7, price: 199, currency: "USD" };
  expect(formatOrderRecord(r)).toBe("u\u00e9\t2\t1796160138574\t7\t199\tUSD");
  expect(parseOrderRecord(formatOrderRecord(r))).toEqual(r);
  expect(parseOrderRecord("u\t2\t17\t")).toBeUndefined();
});

test("newestOrderNumbers: the newest first, at most max, whole numbers only", () => {
  expect(newestOrderNumbers("1 2 3", 2)).toEqual(["3", "2"]);
  expect(newestOrderNumbers("7", 20)).toEqual(["7"]);
  expect(newestOrderNumbers("", 20)).toEqual([]);
  expect(newestOrderNumbers("1  x 05 9", 20)).toEqual(["9", "1"]);
  expect(newestOrderNumbers("3 4", 0)).toEqual([]);
});
