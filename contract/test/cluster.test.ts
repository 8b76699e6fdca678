import { crc16, hashTag, keySlot, parseClusterNodes, parseClusterSlots, parseNodeAddress, parseRedirect, slotOwner, type SlotMap } from "../src/cluster";
import { CONFIG_VERSION_KEY, SALE_CONFIGS_KEY, saleKeys, usedChallengeKey } from "../src/keys";

test("CRC16 is XMODEM, as Redis Cluster's (check value of '123456789' is 0x31C3)", () => {
  expect(crc16("123456789")).toBe(0x31c3);
  expect(crc16("")).toBe(0);
});

// Slots as `CLUSTER KEYSLOT` answers them (Redis 7.0).
test.each([
  ["somekey", 11058],
  ["foo{hash_tag}", 2515],
  ["123456789", 12739],
  ["{user1000}.following", 3443],
  ["{user1000}.followers", 3443],
  ["foo{}{bar}", 8363],
  ["foo{{bar}}zap", 4015],
  ["foo{bar}{zap}", 5061],
  ["{fs:config}:sales", 8826],
  ["fs:{sale:flash-1}:stock", 2827],
])("slot of %p is %p", (key, slot) => expect(keySlot(key)).toBe(slot));

test.each([
  ["a{b}c", "b"],
  ["{}", "{}"],
  ["a{", "a{"],
  ["a}b{c", "a}b{c"],
  ["x{y}z{w}", "y"],
  ["{{a}}", "{a"],
])("hash tag of %p is %p", (key, tag) => expect(hashTag(key)).toBe(tag));

test("every key of a sale is on one slot, and the config keys on another one", () => {
  const keys = [...Object.values(saleKeys("flash-1")), usedChallengeKey("flash-1", "n0nce")];
  expect(new Set(keys.map(keySlot)).size).toBe(1);
  expect(keySlot(SALE_CONFIGS_KEY)).toBe(keySlot(CONFIG_VERSION_KEY));
});

const reply = [
  [10923, 16383, ["127.0.0.1", 7003, "c"], ["127.0.0.1", 7006, "f"]],
  [0, 5460, ["127.0.0.1", 7001, "a"], ["127.0.0.1", 7004, "d"]],
  [5461, 10922, ["", 7002, "b"], ["127.0.0.1", 7005, "e", ["hostname", "x"]]],
];

test("CLUSTER SLOTS → ranges sorted by start, owners, every node once", () => {
  const map = parseClusterSlots(reply, "10.0.0.9") as SlotMap;
  expect(map).toEqual({
    starts: [0, 5461, 10923],
    ends: [5460, 10922, 16383],
    owners: ["127.0.0.1:7001", "10.0.0.9:7002", "127.0.0.1:7003"],
    nodes: ["127.0.0.1:7003", "127.0.0.1:7006", "127.0.0.1:7001", "127.0.0.1:7004", "10.0.0.9:7002", "127.0.0.1:7005"],
  });
  expect([0, 5460, 5461, 10922, 10923, 16383, 16384, -1].map((s) => slotOwner(map, s))).toEqual([
    "127.0.0.1:7001", "127.0.0.1:7001", "10.0.0.9:7002", "10.0.0.9:7002", "127.0.0.1:7003", "127.0.0.1:7003", undefined, undefined,
  ]);
});

test.each([
  ["a slot without a primary", [reply[0], reply[1]], "CLUSTER SLOTS: slot 5461 has no primary"],
  ["the last slots missing", [[0, 100, ["h", 1]]], "CLUSTER SLOTS: slot 101 has no primary"],
  ["no ranges (a node outside any cluster)", [], "CLUSTER SLOTS: slot 0 has no primary"],
  ["a range past the last slot", [[0, 16384, ["h", 1]]], "CLUSTER SLOTS: bad range"],
  ["no primary in a range", [[0, 16383]], "CLUSTER SLOTS: bad range"],
  ["an error reply", "ERR This instance has cluster support disabled", "CLUSTER SLOTS: not an array"],
])("CLUSTER SLOTS with %s is refused", (_what, bad, message) => expect(parseClusterSlots(bad, "h")).toBe(message));

test.each([
  ["MOVED 3999 127.0.0.1:6381", { ask: false, slot: 3999, node: "127.0.0.1:6381" }],
  ["ASK 3999 127.0.0.1:6381", { ask: true, slot: 3999, node: "127.0.0.1:6381" }],
  ["MOVED 16384 h:1", undefined],
  ["MOVED x h:1", undefined],
  ["MOVED 1 h", undefined],
  ["ERR unknown command", undefined],
  ["NOSCRIPT No matching script", undefined],
])("redirect %p → %p", (err, redirect) => expect(parseRedirect(err)).toEqual(redirect));

test.each([
  ["127.0.0.1:7001", { host: "127.0.0.1", port: 7001 }],
  ["::1:7001", { host: "::1", port: 7001 }],
  ["h:0", undefined],
  ["h:65536", undefined],
  [":1", undefined],
  ["h", undefined],
  [" h:1", undefined],
])("node address %p → %p", (node, address) => expect(parseNodeAddress(node)).toEqual(address));

test.each([
  ["127.0.0.1:7001,127.0.0.1:7002", ["127.0.0.1:7001", "127.0.0.1:7002"]],
  ["h:1", ["h:1"]],
  ["h:1,", "FS_REDIS_CLUSTER_NODES: '' is not host:port"],
  ["", "FS_REDIS_CLUSTER_NODES: '' is not host:port"],
  ["h:1, h:2", "FS_REDIS_CLUSTER_NODES: ' h:2' is not host:port"],
])("cluster nodes %p → %p", (text, nodes) => expect(parseClusterNodes(text)).toEqual(nodes));
