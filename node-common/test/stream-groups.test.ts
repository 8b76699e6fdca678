import { streamGroup, streamGroups, xinfoFields } from "../src/stream-groups";

// As ioredis answers XINFO GROUPS on Redis 7: integers as numbers, a lag it cannot tell as null.
const REPLY = [
  ["name", "order-workers", "consumers", 2, "pending", 3, "last-delivered-id", "1700000000000-4", "entries-read", 7, "lag", 1],
  ["name", "other", "consumers", 0, "pending", 0, "last-delivered-id", "0-0", "entries-read", null, "lag", null],
];

test("XINFO GROUPS reads as one entry per group", () => {
  expect(streamGroups(REPLY)).toEqual([
    { name: "order-workers", pending: 3, lastDeliveredId: "1700000000000-4", entriesRead: 7, lag: 1 },
    { name: "other", pending: 0, lastDeliveredId: "0-0", entriesRead: null, lag: null },
  ]);
  expect(streamGroup(REPLY, "other")?.lag).toBeNull();
  expect(streamGroup(REPLY, "missing")).toBeUndefined();
});

test("a reply that is no list (a missing stream's error) holds no groups", () => {
  expect(streamGroups(new Error("ERR no such key"))).toEqual([]);
  expect(streamGroups(null)).toEqual([]);
  expect(xinfoFields(["name", "c", "idle"]).get("idle")).toBeUndefined();
});
