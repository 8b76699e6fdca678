/** Sales in Postgres: the durable record the control plane publishes from. */
import type { Pool } from "@flash-sale/node-common";
import type { Deduction, SaleLimits } from "@flash-sale/gateway-lua/core/sale";
import type { SaleSettings } from "./schema";

/** A stored sale, as the admin API shows it. */
export interface Sale {
  id: string;
  name: string;
  price: number;
  currency: string;
  stock: number;
  startsAt: string;
  endsAt: string;
  perUserLimit: number;
  deduction: Deduction;
  paymentTimeoutSeconds?: number;
  challenge: boolean;
  limits: SaleLimits;
  paused: boolean;
  /** The config version last published to Redis; null until the first publish. */
  publishedVersion: number | null;
  createdAt: string;
  updatedAt: string;
}

/** Orders the order worker has written to Postgres for one sale. */
export interface PersistedOrders {
  orders: number;
  units: number;
}

interface SaleRow {
  id: string;
  name: string;
  price: number;
  currency: string;
  stock: number;
  starts_at: Date;
  ends_at: Date;
  per_user_limit: number;
  deduction: Deduction;
  payment_timeout_seconds: number | null;
  challenge: boolean;
  limits: SaleLimits;
  paused: boolean;
  published_version: string | null; // bigint
  created_at: Date;
  updated_at: Date;
}

function toSale(row: SaleRow): Sale {
  return {
    id: row.id,
    name: row.name,
    price: row.price,
    currency: row.currency,
    stock: row.stock,
    startsAt: row.starts_at.toISOString(),
    endsAt: row.ends_at.toISOString(),
    perUserLimit: row.per_user_limit,
    deduction: row.deduction,
    ...(row.payment_timeout_seconds === null ? {} : { paymentTimeoutSeconds: row.payment_timeout_seconds }),
    challenge: row.challenge,
    limits: row.limits,
    paused: row.paused,
    publishedVersion: row.published_version === null ? null : Number(row.published_version),
    createdAt: row.created_at.toISOString(),
    updatedAt: row.updated_at.toISOString(),
  };
}

export class SaleRepository {
  constructor(private readonly pool: Pool) {}

  /** Stores a new sale; undefined when a sale with this id already exists. */
  async insert(id: string, s: SaleSettings): Promise<Sale | undefined> {
    const result = await this.pool.query<SaleRow>(
      `INSERT INTO sales (id, name, price, currency, stock, starts_at, ends_at, per_user_limit,
                          deduction, payment_timeout_seconds, challenge, limits)
       VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12)
       ON CONFLICT (id) DO NOTHING
       RETURNING *`,
      [
        id,
        s.name,
        s.price,
        s.currency,
        s.stock,
        s.startsAt,
        s.endsAt,
        s.perUserLimit,
        s.deduction,
        s.paymentTimeoutSeconds ?? null,
        s.challenge,
        JSON.stringify(s.limits),
      ],
    );
    const row = result.rows[0];
    return row === undefined ? undefined : toSale(row);
  }

  async find(id: string): Promise<Sale | undefined> {
    const result = await this.pool.query<SaleRow>("SELECT * FROM sales WHERE id = $1", [id]);
    const row = result.rows[0];
    return row === undefined ? undefined : toSale(row);
  }

  /** Every sale, the soonest to start first. */
  async list(): Promise<Sale[]> {
    const result = await this.pool.query<SaleRow>("SELECT * FROM sales ORDER BY starts_at, id");
    return result.rows.map(toSale);
  }

  /** Records a published version; a slower concurrent publish never moves it back. */
  async recordPublishedVersion(id: string, version: number): Promise<void> {
    await this.pool.query("UPDATE sales SET published_version = GREATEST(published_version, $2) WHERE id = $1", [
      id,
      version,
    ]);
  }

  async persistedOrders(saleId: string): Promise<PersistedOrders> {
    const result = await this.pool.query<PersistedOrders>(
      "SELECT count(*)::int AS orders, COALESCE(sum(quantity), 0)::int AS units FROM orders WHERE sale_id = $1",
      [saleId],
    );
    return result.rows[0] ?? { orders: 0, units: 0 };
  }
}
