import { payOutcome } from "../src/pay_reply";
import { decodePurchaseReply } from "../src/purchase_reply";

test("purchase.lua's replies decode by their code, with the values each carries", () => {
  expect(decodePurchaseReply([0, "s.3.12", 4])).toEqual({ outcome: "accepted", orderId: "s.3.12", unitsLeft: 4 });
  expect(decodePurchaseReply([1])).toEqual({ outcome: "sold_out", unitsLeft: undefined });
  expect(decodePurchaseReply([3, 2])).toEqual({ outcome: "not_enough_left", unitsLeft: 2 });
  expect(decodePurchaseReply([-1])).toEqual({ outcome: "held", unitsLeft: undefined });
  expect(decodePurchaseReply([8, "paused"])).toEqual({ outcome: "not_open", window: "paused" });
  expect(decodePurchaseReply([9])).toEqual({ outcome: "stale_pass", unitsLeft: undefined });
  expect(decodePurchaseReply([10])).toEqual({ outcome: "bucket_empty", unitsLeft: undefined });
});

test("a reply that is none of purchase.lua's decodes to undefined", () => {
  for (const reply of [[11], [99], [7], [-2], [0.5], ["0", "s.3.12", 4], [0, 12, 4], [0, "s.3.12"], [], "OK", 0, null, undefined]) {
    expect(decodePurchaseReply(reply)).toBeUndefined();
  }
});

test("pay-order.lua's replies decode by their code; others to undefined", () => {
  expect([[0], [1], [2], [3], [4], [-1]].map(payOutcome)).toEqual(["paid", "already_paid", "expired", "not_found", "failed", "held"]);
  for (const reply of [[5], [6], ["0"], [], "OK", null]) expect(payOutcome(reply)).toBeUndefined();
});
