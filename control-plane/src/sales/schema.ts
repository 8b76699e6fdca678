/**
 * A sale as an admin submits it: the one schema of the admin API, exported for the admin UI.
 * Built from the list of settings (fields.ts), each with its own validator and default, plus
 * the sale's id and the checks across settings.
 */
import * as z from "zod/mini";
import type { Deduction } from "@flash-sale/contract/sale";
import { isValidSaleId } from "@flash-sale/contract/ids";
import { objectError, quoted, settingsShape, type SaleDefaults } from "./fields";

export type { SaleDefaults } from "./fields";

/** Deductions that hold unpaid orders, and so have a payment timeout. */
const DEDUCTIONS_WITH_PAYMENT_TIMEOUT: readonly Deduction[] = ["payment", "reserve"];

/** Lets a check across fields run on valid values only, and alongside other fields' issues. */
function noIssueIn(...fields: string[]) {
  return (payload: { issues: readonly { path?: readonly PropertyKey[] }[] }) =>
    !payload.issues.some((issue) => fields.includes(String(issue.path?.[0])));
}

export function saleInputSchema(defaults: SaleDefaults) {
  return z
    .strictObject(
      {
        id: z.optional(
          z
            .string({ error: "must be a text" })
            .check(z.refine(isValidSaleId, 'must be 1–64 characters of a-z, 0-9 and "-", not starting with "-"')),
        ),
        ...settingsShape(defaults),
      },
      { error: objectError },
    )
    .check(
      z.refine((sale) => Date.parse(sale.endsAt) > Date.parse(sale.startsAt), {
        path: ["endsAt"],
        message: "must be after startsAt",
        when: noIssueIn("startsAt", "endsAt"),
      }),
      z.refine(
        (sale) =>
          sale.paymentTimeoutSeconds === undefined || DEDUCTIONS_WITH_PAYMENT_TIMEOUT.includes(sale.deduction),
        {
          path: ["paymentTimeoutSeconds"],
          message: `only applies to deduction ${quoted(DEDUCTIONS_WITH_PAYMENT_TIMEOUT, " or ")}`,
          when: noIssueIn("paymentTimeoutSeconds", "deduction"),
        },
      ),
      z.refine(
        (sale) => sale.paymentTimeoutSeconds !== undefined || !DEDUCTIONS_WITH_PAYMENT_TIMEOUT.includes(sale.deduction),
        {
          path: ["paymentTimeoutSeconds"],
          message: "is required with this deduction: how long an order may wait unpaid before it expires",
          when: noIssueIn("paymentTimeoutSeconds", "deduction"),
        },
      ),
      // Deduction `payment` accepts orders without taking units: their number must be bounded.
      // (`limits` is absent when the body is not an object at all: that issue is reported already.)
      z.refine((sale) => (sale.limits?.openUnpaidOrders !== undefined) === (sale.deduction === "payment"), {
        path: ["limits", "openUnpaidOrders"],
        message: 'is required with deduction "payment", and only applies to it: how many orders may wait unpaid at once',
        when: noIssueIn("limits", "deduction"),
      }),
      // Stock buckets: the refunds of modes `reserve` and `payment` and the waiting room's
      // admission read one slot's stock; they are not split over buckets (docs/cluster.md, "Stock buckets").
      z.refine((sale) => sale.stockBuckets === 1 || sale.deduction === "order", {
        path: ["stockBuckets"],
        message: 'above 1 only applies to deduction "order"',
        when: noIssueIn("stockBuckets", "deduction"),
      }),
      z.refine((sale) => sale.stockBuckets === 1 || sale.waitingRoom === undefined, {
        path: ["stockBuckets"],
        message: "above 1 does not go with a waiting room",
        when: noIssueIn("stockBuckets", "waitingRoom"),
      }),
    );
}

/** A sale as the admin sends it. */
export type SaleInput = z.input<ReturnType<typeof saleInputSchema>>;
/** A valid sale with every default filled in; without `id` when the server is to make one. */
export type SaleSettings = z.output<ReturnType<typeof saleInputSchema>>;
