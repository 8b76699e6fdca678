import { chunkCost, CONFIRM_CHUNK, confirmChunks, ORDER_COST, type SaleAck } from "../src/order-confirmer";

function ack(orders: number, extraEntries: number, statusEntries = 0): SaleAck {
  return {
    saleId: "s",
    orders: Array.from({ length: orders }, (_, i): [number, number] => [3, i + 1]),
    entryIds: Array.from({ length: orders + extraEntries }, (_, i) => `1-${i}`),
    statusEntryIds: Array.from({ length: statusEntries }, (_, i) => `2-${i}`),
  };
}

test("a batch of 1,000 orders is split into calls within the budget, nothing lost or repeated", () => {
  const a = ack(1000, 7, 300);
  const chunks = confirmChunks(a);
  for (const c of chunks) expect(chunkCost(c)).toBeLessThanOrEqual(CONFIRM_CHUNK);
  expect(chunks.flatMap((c) => c.orders)).toEqual(a.orders);
  expect(chunks.flatMap((c) => c.entryIds)).toEqual(a.entryIds);
  expect(chunks.flatMap((c) => c.statusEntryIds)).toEqual(a.statusEntryIds);
  expect(chunks).toHaveLength(Math.ceil((1000 * ORDER_COST + 1007 + 300) / CONFIRM_CHUNK));
});

test("every order is confirmed in a call before (or in the same call as) the first acknowledgement", () => {
  const chunks = confirmChunks(ack(130, 0), 100);
  const firstAck = chunks.findIndex((c) => c.entryIds.length > 0);
  const lastConfirm = chunks.map((c) => c.orders.length > 0).lastIndexOf(true);
  expect(lastConfirm).toBeLessThanOrEqual(firstAck);
  // Within a call the script confirms before it acknowledges.
  expect(chunks[firstAck]?.orders.length).toBeGreaterThan(0);
});

test("small and empty acknowledgements", () => {
  expect(confirmChunks(ack(0, 0))).toEqual([]);
  expect(confirmChunks(ack(0, 3))).toEqual([{ orders: [], entryIds: ["1-0", "1-1", "1-2"], statusEntryIds: [] }]);
  expect(confirmChunks(ack(1, 0, 1))).toEqual([{ orders: [[3, 1]], entryIds: ["1-0"], statusEntryIds: ["2-0"] }]);
  // A budget smaller than an order still makes progress: one order a call.
  expect(confirmChunks(ack(2, 0), 1).map((c) => c.orders.length + c.entryIds.length)).toEqual([1, 1, 1, 1]);
});
