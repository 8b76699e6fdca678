/**
 * One answer per challenge, right or wrong: the first answer claims the challenge's nonce in
 * a shared dict, so every worker of this gateway refuses a second one. Across gateways, a
 * right answer buys at most once because the purchase script marks the challenge used too.
 */
import { limitsDict } from "./shared_dict";

/** True when this is the challenge's first answer here; the claim lasts until it expires. */
export function claimChallenge(nonce: string, ttlSec: number): boolean {
  const [ok, err] = limitsDict().add("c:" + nonce, true, ttlSec);
  if (ok) return true;
  if (err !== "exists") ngx.log(ngx.WARN, "challenge claims: cannot record a claim: ", tostring(err));
  return false;
}
