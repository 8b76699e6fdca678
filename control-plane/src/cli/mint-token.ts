/**
 * Prints a shopper token signed with FS_JWT_SECRET — for development, demos and load tests
 * ONLY: whoever holds the secret can act as any shopper.
 *
 *   node control-plane/build/cli/mint-token.js <userId> [ttlSeconds, default 3600]
 */
import { readEnv } from "@flash-sale/node-common";
import { signShopperToken } from "../auth/shopper-token";

const USAGE = "usage: mint-token <userId> [ttlSeconds]   (development, demo and load-test use only)";
const DEFAULT_TTL_SECONDS = 3600;

function main(args: string[]): number {
  const [userId, ttl] = args;
  if (userId === undefined || args.length > 2) {
    console.error(USAGE);
    return 2;
  }
  try {
    const { FS_JWT_SECRET } = readEnv(["FS_JWT_SECRET"]);
    const token = signShopperToken(FS_JWT_SECRET, userId, ttl === undefined ? DEFAULT_TTL_SECONDS : Number(ttl));
    console.error("mint-token: a development/demo/load-test token; never hand these out in production.");
    console.log(token);
    return 0;
  } catch (err) {
    console.error(`mint-token: ${err instanceof Error ? err.message : String(err)}`);
    console.error(USAGE);
    return 2;
  }
}

process.exitCode = main(process.argv.slice(2));
