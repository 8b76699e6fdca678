/**
 * Who makes a request of the admin API, as authenticated (auth/admin-auth.ts): an operator (a
 * session), an API token, or the bootstrap credential FS_ADMIN_TOKEN. Nothing the client sends
 * names it.
 */
import type { Request } from "express";
import { ApiError } from "../api/api-error";
import { atLeast, type Role } from "./roles";

export type Identity =
  | { kind: "operator"; operatorId: number; name: string; role: Role; sessionId?: number }
  | { kind: "token"; tokenId: number; name: string; role: Role; sessionId?: number }
  | { kind: "bootstrap"; name: typeof BOOTSTRAP_NAME; role: "admin"; sessionId?: number };

/** How the audit names FS_ADMIN_TOKEN; no operator may take the name. */
export const BOOTSTRAP_NAME = "bootstrap";

const identities = new WeakMap<Request, Identity>();

export function setIdentity(req: Request, identity: Identity): void {
  identities.set(req, identity);
}

/** The request's identity; only routes behind the admin check ask. */
export function identityOf(req: Request): Identity {
  const identity = identities.get(req);
  if (identity === undefined) throw new Error("identityOf: the request passed no admin check");
  return identity;
}

/** The audit's "by": an operator's name, `token:<name>`, or `bootstrap`. */
export function actorOf(identity: Identity): string {
  return identity.kind === "token" ? `token:${identity.name}` : identity.name;
}

export function demandRole(req: Request, minimum: Role): void {
  const { role } = identityOf(req);
  if (!atLeast(role, minimum)) throw new ApiError("forbidden", `This needs the role ${minimum} or above; you are ${role}.`);
}
