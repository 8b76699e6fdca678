/** init_by_lua: read settings and load scripts once in the master, so workers fork ready. */
import { loadSettings } from "../settings";
import { initShopperIdentity } from "../adapters/shopper_identity";
import { loadPurchaseScript } from "../adapters/purchase_script";
import { loadPayScript } from "../adapters/pay_script";
import { initChallenges } from "../adapters/challenges";
import { initDevTokens } from "../adapters/dev_tokens";
import { loadRegistryScript } from "../adapters/gateway_registry";
import { initWaitingRoom } from "../adapters/waiting_room";

export function init(this: void): void {
  const s = loadSettings();
  initShopperIdentity(s.jwtSecret, s.tokenMaxLifetimeSec, s.signatureMemoSize);
  initChallenges(s.jwtSecret);
  initDevTokens(s.jwtSecret);
  loadPurchaseScript();
  loadPayScript();
  loadRegistryScript();
  initWaitingRoom(s.jwtSecret, s.signatureMemoSize);
}
