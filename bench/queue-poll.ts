/**
 * The queue poll row of `make bench`: GET /api/sales/{id}/queue?ticket=… by distinct shoppers of
 * a started sale's waiting room, each with the ticket the gateway would have signed (made here
 * with the gateway's key): answered from the gateway's shared dict, no Redis round trip. The
 * shoppers are in the queue in Redis too (ZADD), as if they had joined.
 */
import { createHmac } from "node:crypto";
import { writeFileSync } from "node:fs";
import path from "node:path";
import type { Redis } from "@flash-sale/node-common";
import { saleKeys } from "@flash-sale/contract/keys";
import { queueTicket } from "@flash-sale/contract/waiting_room";
import { waitForSale, type Gateway } from "../tests/support/gateway";
import type { ControlPlane } from "../tests/support/control-plane";
import { TEST_JWT_SECRET, signToken } from "../tests/support/tokens";
import { benchUserId } from "./shopper-tokens";

/** Shoppers polling in turn; positions 10,000..29,999 make tickets of one width. */
const FIRST_POSITION = 10_000;
const POLLERS = 20_000;
const ZADD_CHUNK = 1000;

export interface QueuePollRow {
  url: string;
  script: string[];
  env: NodeJS.ProcessEnv;
}

export async function prepareQueuePoll(redis: Redis, controlPlane: ControlPlane, gateway: Gateway, dir: string, limits: object): Promise<QueuePollRow> {
  const sale = await controlPlane.createSale({ id: "bench-queue", stock: 50_000_000, limits, waitingRoom: { opensBeforeSeconds: 60, admitPerSecond: 1, passSeconds: 60 } });
  await waitForSale(gateway, sale.id);
  const queue = saleKeys(sale.id).queue;
  // Tickets name the sale's epoch: the build's, after the run id in its fence ("<run id>:<epoch>").
  const epoch = Number((await redis.hget(saleKeys(sale.id).meta, "fence"))?.slice(41));
  const mac = { signHs256: (data: string) => createHmac("sha256", TEST_JWT_SECRET).update(data, "latin1").digest("base64url") };
  const lines: string[] = [];
  const last = FIRST_POSITION + POLLERS - 1;
  for (let from = 1; from <= last; from += ZADD_CHUNK) {
    const members: (string | number)[] = [];
    for (let position = from; position < Math.min(from + ZADD_CHUNK, last + 1); position++) {
      const user = benchUserId("poller", position);
      members.push(2 ** 48 + position, user);
      if (position >= FIRST_POSITION) lines.push(`${signToken(user, { expiresInSec: 3600 })} ${queueTicket(sale.id, user, epoch, position, mac)}`);
    }
    await redis.zadd(queue, ...members);
  }
  const file = path.join(dir, "pollers.txt");
  writeFileSync(file, lines.join("\n") + "\n");
  return {
    url: `${gateway.url}/api/sales/${sale.id}/queue`,
    script: ["-s", path.join(__dirname, "wrk/queue-poll.lua")],
    env: { BENCH_POLLERS: file },
  };
}
