/**
 * After the Postgres commit: runs redis-scripts/confirm-orders.lua once per sale of the batch
 * (pending → confirmed, then XACK of both of the sale's streams), all sales' calls pipelined
 * into one round trip.
 */
import path from "node:path";
import { saleKeys } from "@flash-sale/gateway-lua/core/keys";
import { RedisScript, type Redis } from "@flash-sale/node-common";

const SCRIPT = RedisScript.load(path.resolve(__dirname, "../redis-scripts/confirm-orders.lua"));

export interface SaleAck {
  saleId: string;
  /** Orders now committed to Postgres: [epoch, number] each. */
  orders: [epoch: number, orderNo: number][];
  /** Order stream entries to acknowledge: the committed orders', and those set aside or malformed. */
  entryIds: string[];
  /** Status change entries to acknowledge: applied in Postgres, or malformed. */
  statusEntryIds: string[];
}

export interface ConfirmResult {
  confirmed: number;
  acked: number;
}

export class OrderConfirmer {
  /** onConfirmed(saleId, n): n orders of the sale went pending → confirmed (each order once, ever). */
  constructor(
    private readonly redis: Redis,
    private readonly group: string,
    private readonly onConfirmed: (saleId: string, confirmed: number) => void = () => undefined,
  ) {}

  async confirm(acks: SaleAck[]): Promise<ConfirmResult> {
    const replies = await Promise.all(acks.map((a) => this.confirmSale(a)));
    return replies.reduce((sum, r) => ({ confirmed: sum.confirmed + r.confirmed, acked: sum.acked + r.acked }), {
      confirmed: 0,
      acked: 0,
    });
  }

  private async confirmSale(ack: SaleAck): Promise<ConfirmResult> {
    const keys = saleKeys(ack.saleId);
    const reply = await SCRIPT.run(this.redis, [keys.orders, keys.stream, keys.statusChanges], [
      this.group,
      String(ack.orders.length),
      String(ack.entryIds.length),
      ...ack.orders.flatMap(([epoch, n]) => [String(n), String(epoch)]),
      ...ack.entryIds,
      ...ack.statusEntryIds,
    ]);
    if (!Array.isArray(reply) || typeof reply[0] !== "number" || typeof reply[1] !== "number") {
      throw new Error(`confirm-orders.lua: unexpected reply ${JSON.stringify(reply)}`);
    }
    this.onConfirmed(ack.saleId, reply[0]);
    return { confirmed: reply[0], acked: reply[1] };
  }
}
