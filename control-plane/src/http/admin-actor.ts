/**
 * Who makes an admin change, for the audit trail. The admin token is shared, so the caller
 * names itself in `X-Admin-Actor` (the admin UI sends the signed-in operator); unnamed
 * callers are recorded as "admin".
 */
import type { Request } from "express";
import { ApiError } from "./api-error";

export const ACTOR_HEADER = "x-admin-actor";
const DEFAULT_ACTOR = "admin";
const ACTOR_PATTERN = /^[\x21-\x7e](?:[\x20-\x7e]{0,62}[\x21-\x7e])?$/;

export function adminActor(req: Request): string {
  const named = req.get(ACTOR_HEADER);
  if (named === undefined) return DEFAULT_ACTOR;
  if (!ACTOR_PATTERN.test(named)) {
    throw new ApiError("bad_request", `${ACTOR_HEADER} must be 1–64 printable ASCII characters, not starting or ending with a space.`);
  }
  return named;
}
