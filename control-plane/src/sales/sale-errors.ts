/** The admin API's refusals of a sale: each bad field by path, with its message. */
import { ApiError } from "../api/api-error";
import type { FieldError } from "../api/field-errors";

function summary(fields: FieldError[]): string {
  return fields.map((f) => (f.path === "" ? f.message : `${f.path}: ${f.message}`)).join("; ");
}

/** 400: the sale, as sent, is invalid. */
export function invalidSale(fields: FieldError[]): ApiError {
  return new ApiError("bad_request", `The sale is invalid: ${summary(fields)}.`, { fields });
}

/** 409: valid on its own, but it would break the sale in its current state. */
export function conflictingChange(fields: FieldError[]): ApiError {
  return new ApiError("sale_conflict", `The change would break the sale in progress: ${summary(fields)}.`, { fields });
}

/** 409: the sale's state does not allow the action at all. */
export function refusedInState(message: string, state: string): ApiError {
  return new ApiError("sale_conflict", message, { state });
}

/** 409: the stock cannot go below the units sold or reserved; says how many are left and taken. */
export function stockBelowTaken(total: number, units: { unitsLeft: number; unitsTaken: number }): ApiError {
  const { unitsLeft, unitsTaken } = units;
  const message = `must be at least ${unitsTaken}: that many units are sold or reserved (${unitsLeft} left)`;
  return new ApiError("stock_below_taken", `The stock cannot be lowered to ${total}: ${unitsTaken} units are sold or reserved and ${unitsLeft} are left.`, {
    fields: [{ path: "stock", message }],
    unitsLeft,
    unitsTaken,
  });
}
