/**
 * Every admin route wants an identity: `Authorization: Bearer <token>` (an API token, or the
 * bootstrap FS_ADMIN_TOKEN while it is set), or the admin UI's session cookie (with its CSRF
 * token on state-changing requests). Then the role the route table asks (auth/route-roles.ts).
 */
import type { RequestHandler } from "express";
import { ApiError } from "../api/api-error";
import { sameSecret, sessionAllows, type AdminSessions } from "./sessions";
import type { ApiTokens } from "./api-tokens";
import { BOOTSTRAP_NAME, demandRole, setIdentity, type Identity } from "./identity";
import { roleNeeded } from "./route-roles";

export interface AdminCredentials {
  /** FS_ADMIN_TOKEN; undefined: turned off. */
  bootstrapToken: string | undefined;
  tokens: ApiTokens;
  sessions: AdminSessions;
}

/** The identity of a bearer token: an API token's, or the bootstrap credential's. */
export async function tokenIdentity(token: string, { bootstrapToken, tokens }: AdminCredentials): Promise<Identity | undefined> {
  if (bootstrapToken !== undefined && sameSecret(token, bootstrapToken)) return { kind: "bootstrap", name: BOOTSTRAP_NAME, role: "admin" };
  const found = await tokens.authenticate(token);
  return found === undefined ? undefined : { kind: "token", tokenId: found.id, name: found.name, role: found.role };
}

export function requireAdmin(credentials: AdminCredentials): RequestHandler {
  return async (req, res, next) => {
    const match = /^Bearer +(\S+) *$/i.exec(req.get("authorization") ?? "");
    let identity = match?.[1] === undefined ? undefined : await tokenIdentity(match[1], credentials);
    if (identity === undefined) {
      const session = await credentials.sessions.find(req);
      if (session !== undefined && sessionAllows(req, session)) identity = session.identity;
    }
    if (identity === undefined) {
      res.set("WWW-Authenticate", 'Bearer realm="admin"');
      throw new ApiError("unauthorized", "A valid admin credential is required: Authorization: Bearer <API token>, or a signed-in session.");
    }
    setIdentity(req, identity);
    demandRole(req, roleNeeded(req));
    next();
  };
}
