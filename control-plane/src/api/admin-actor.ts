/**
 * Who makes an admin change, for the audit trail: the authenticated identity (an operator's
 * name, `token:<name>`, or `bootstrap`), never a name the caller sends.
 */
import type { Request } from "express";
import { actorOf, identityOf } from "../auth/identity";

export function adminActor(req: Request): string {
  return actorOf(identityOf(req));
}
