import { bucketOfOrderNo, bucketOfUser, bucketTag, evenShares, firstOrderNo, MAX_STOCK_BUCKETS, ordersOfCounter } from "../src/buckets";
import { keySlot, SLOT_COUNT } from "../src/cluster";
import { bucketKeysOf, saleKeys, usedChallengeKey } from "../src/keys";

test("one bucket is the sale as it always was: the same keys, tag and numbers", () => {
  expect(saleKeys("flash-1")).toEqual(saleKeys("flash-1", 0, 1));
  expect(saleKeys("flash-1").stock).toBe("fs:{sale:flash-1}:stock");
  expect(saleKeys("flash-1", 0, 3).stock).toBe("fs:{sale:flash-1}:stock");
  expect(usedChallengeKey("s", "n")).toBe("fs:{sale:s}:challenge:n");
  expect(bucketOfUser("anyone", 1)).toBe(0);
  expect(bucketOfOrderNo(17, 1)).toBe(0);
});

test("every key of a bucket shares the bucket's tag; buckets of a sale have different tags", () => {
  for (let b = 0; b < 4; b++) {
    const k = saleKeys("hot", b, 4);
    const slots = new Set(Object.values(k).map(keySlot));
    expect(slots.size).toBe(1);
    expect(usedChallengeKey("hot", "x", b, 4)).toContain(k.stock.slice(0, k.stock.indexOf("}") + 1));
  }
  const tags = new Set(Array.from({ length: 4 }, (_, b) => bucketTag("hot", b, 4)));
  expect(tags.size).toBe(4);
});

test.each([2, 3, 5, MAX_STOCK_BUCKETS])("the %p buckets of a sale fall in as many different equal slot ranges", (k) => {
  for (const sale of ["hot", "flash-1", "s", "a-very-long-sale-id-0123456789"]) {
    const ranges = Array.from({ length: k }, (_, b) => Math.floor((keySlot(saleKeys(sale, b, k).meta) * k) / SLOT_COUNT));
    expect(new Set(ranges).size).toBe(k);
    // Deterministic: the same tag from every caller.
    expect(bucketTag(sale, k - 1, k)).toBe(bucketTag(sale, k - 1, k));
  }
});

test("a shopper always lands on the same bucket, and shoppers spread over all of them", () => {
  const counts = [0, 0, 0];
  for (let i = 0; i < 3000; i++) {
    const b = bucketOfUser("user-" + i, 3);
    expect(bucketOfUser("user-" + i, 3)).toBe(b);
    counts[b]! += 1;
  }
  for (const c of counts) expect(c).toBeGreaterThan(800);
});

test("bucket b hands out the numbers n with (n - 1) % K == b, so a number names its bucket", () => {
  const k = 3;
  const seen = new Set<number>();
  for (let b = 0; b < k; b++) {
    for (let n = firstOrderNo(b); n < 30; n += k) {
      expect(bucketOfOrderNo(n, k)).toBe(b);
      expect(seen.has(n)).toBe(false);
      seen.add(n);
    }
  }
  expect(seen.size).toBe(29);
});

test("a bucket's counter tells how many orders it handed out", () => {
  expect(ordersOfCounter(0, 0, 1)).toBe(0);
  expect(ordersOfCounter(7, 0, 1)).toBe(7);
  expect(ordersOfCounter(0, 2, 3)).toBe(0);
  expect(ordersOfCounter(3, 2, 3)).toBe(1);
  expect(ordersOfCounter(9, 2, 3)).toBe(3);
  expect(ordersOfCounter(7, 0, 3)).toBe(3);
  expect(bucketKeysOf("hot", 3).map((k) => k.stock)).toEqual([0, 1, 2].map((b) => saleKeys("hot", b, 3).stock));
});

test("units split evenly over buckets, the first ones taking what does not divide", () => {
  expect(evenShares(10, 3)).toEqual([4, 3, 3]);
  expect(evenShares(2, 3)).toEqual([1, 1, 0]);
  expect(evenShares(0, 2)).toEqual([0, 0]);
});
