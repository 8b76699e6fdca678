/** The admin API's refusals of a sale: each bad field by path, with its message. */
import { ApiError } from "../http/api-error";
import type { FieldError } from "../http/field-errors";

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
