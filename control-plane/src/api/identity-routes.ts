/**
 * The admin API of identities, under /admin/api: who am I (`/me`), operators (admins manage
 * them; local accounts get their password here and a TOTP secret shown once), API tokens (the
 * secret shown once; minted at most at the maker's role), and the admin UI's sessions.
 */
import { Router, type Request } from "express";
import * as z from "zod/mini";
import type { Logger } from "@flash-sale/node-common";
import type { AdminSessions } from "../auth/sessions";
import { ApiError } from "./api-error";
import { fieldErrors, type FieldError } from "./field-errors";
import type { ApiTokens } from "../auth/api-tokens";
import { hashPassword, newTotpSecret, totpUri } from "../auth/credentials";
import { BOOTSTRAP_NAME, actorOf, identityOf } from "../auth/identity";
import { operatorView, type OperatorFields, type OperatorStore } from "../auth/operator-store";
import { ROLES, atLeast } from "../auth/roles";

export interface IdentityRoutesDeps {
  operators: OperatorStore;
  tokens: ApiTokens;
  sessions: AdminSessions;
  logger: Logger;
}

export const DEFAULT_TOKEN_DAYS = 90;
const MAX_TOKEN_DAYS = 3650;
const PASSWORD_MIN_LENGTH = 12;

// Names appear in the audit as they are: no spaces, no colon (`token:<name>` is a token's).
const name = z.string({ error: "must be a text" }).check(z.regex(/^[A-Za-z0-9][A-Za-z0-9._@-]{0,63}$/, "must be 1–64 letters, digits, '.', '_', '@' or '-'"));
const role = z.enum(ROLES, { error: `must be one of ${ROLES.join(", ")}` });
const email = z.nullable(z.email({ error: "must be an email address or null" }).check(z.maxLength(254, "must be at most 254 characters")));
const password = z.nullable(z.string({ error: "must be a text or null" }).check(z.minLength(PASSWORD_MIN_LENGTH, `must be at least ${PASSWORD_MIN_LENGTH} characters`), z.maxLength(1024, "must be at most 1024 characters")));

const operatorCreate = z.strictObject({
  name,
  email: z.optional(email),
  role,
  disabled: z.optional(z.boolean({ error: "must be true or false" })),
  password: z.optional(password),
  totp: z.optional(z.boolean({ error: "must be true or false" })),
});
const operatorChange = z.strictObject({
  email: z.optional(email),
  role: z.optional(role),
  disabled: z.optional(z.boolean({ error: "must be true or false" })),
  password: z.optional(password),
  /** true: a new secret (shown once); false: none. */
  totp: z.optional(z.boolean({ error: "must be true or false" })),
});
const tokenCreate = z.strictObject({
  name,
  role,
  expiresInDays: z.optional(z.int({ error: "must be a whole number of days" }).check(z.minimum(1, "must be at least 1"), z.maximum(MAX_TOKEN_DAYS, `must be at most ${MAX_TOKEN_DAYS}`))),
});

function invalid(what: string, fields: FieldError[]): ApiError {
  const summary = fields.map((f) => (f.path === "" ? f.message : `${f.path}: ${f.message}`)).join("; ");
  return new ApiError("bad_request", `The ${what} is invalid: ${summary}.`, { fields });
}

/** Ids are numbers: anything else is the caller's mistake, not an unknown one. */
function idOf(req: Request): string {
  const id = String(req.params["id"]);
  if (!/^\d{1,18}$/.test(id)) throw new ApiError("bad_request", "The id must be a number.");
  return id;
}

function parse<T>(schema: z.ZodMiniType<T>, req: Request, what: string): T {
  const parsed = schema.safeParse(req.body ?? {});
  if (!parsed.success) throw invalid(what, fieldErrors(parsed.error));
  return parsed.data;
}

/** An admin with a password signs in with a second factor too. */
function checkSecondFactor(fields: OperatorFields): void {
  if (fields.role === "admin" && fields.passwordHash !== null && fields.totpSecret === null) {
    throw invalid("operator", [{ path: "totp", message: "an admin with a password needs TOTP" }]);
  }
}

export function identityRoutes({ operators, tokens, sessions, logger }: IdentityRoutesDeps): Router {
  const router = Router();

  router.get("/me", (req, res) => {
    const identity = identityOf(req);
    res.json({ kind: identity.kind, name: identity.name, actor: actorOf(identity), role: identity.role });
  });

  router.get("/operators", async (_req, res) => {
    res.json({ operators: await operators.list() });
  });

  router.post("/operators", async (req, res) => {
    const input = parse(operatorCreate, req, "operator");
    if (input.name === BOOTSTRAP_NAME) throw invalid("operator", [{ path: "name", message: `"${BOOTSTRAP_NAME}" is the bootstrap credential's` }]);
    const hasPassword = input.password !== undefined && input.password !== null;
    const totpSecret = hasPassword && (input.totp === true || input.role === "admin") ? newTotpSecret() : null;
    const fields: OperatorFields = {
      name: input.name,
      email: input.email ?? null,
      role: input.role,
      disabled: input.disabled ?? false,
      passwordHash: hasPassword ? await hashPassword(input.password!) : null,
      totpSecret,
    };
    checkSecondFactor(fields);
    const created = await operators.insert(fields);
    if (created === undefined) throw invalid("operator", [{ path: "name", message: "the name or the email is already taken" }]);
    logger.info({ operator: created.name, role: created.role, actor: actorOf(identityOf(req)) }, "operator created");
    res
      .status(201)
      .location(`/admin/api/operators/${created.id}`)
      .json({ ...operatorView(created), ...(totpSecret === null ? {} : { totpSecret, totpUri: totpUri(totpSecret, created.name) }) });
  });

  router.patch("/operators/:id", async (req, res) => {
    const input = parse(operatorChange, req, "operator");
    const found = await operators.find(idOf(req));
    if (found === undefined) throw new ApiError("not_found", "No such operator.");
    const newTotp = input.totp === true ? newTotpSecret() : null;
    const fields: OperatorFields = {
      name: found.name,
      email: input.email === undefined ? found.email : input.email,
      role: input.role ?? found.role,
      disabled: input.disabled ?? found.disabled,
      passwordHash: input.password === undefined ? found.passwordHash : input.password === null ? null : await hashPassword(input.password),
      totpSecret: input.totp === undefined ? found.totpSecret : newTotp,
    };
    checkSecondFactor(fields);
    const changed = await operators.update(found.id, fields);
    if (changed === undefined) throw invalid("operator", [{ path: "email", message: "the email is already taken" }]);
    logger.info({ operator: changed.name, role: changed.role, disabled: changed.disabled, actor: actorOf(identityOf(req)) }, "operator changed");
    res.json({ ...operatorView(changed), ...(newTotp === null ? {} : { totpSecret: newTotp, totpUri: totpUri(newTotp, changed.name) }) });
  });

  router.delete("/operators/:id", async (req, res) => {
    if (!(await operators.delete(idOf(req)))) throw new ApiError("not_found", "No such operator.");
    logger.info({ operator: req.params.id, actor: actorOf(identityOf(req)) }, "operator deleted");
    res.status(204).end();
  });

  router.get("/tokens", async (_req, res) => {
    res.json({ tokens: await tokens.list() });
  });

  router.post("/tokens", async (req, res) => {
    const input = parse(tokenCreate, req, "token");
    const identity = identityOf(req);
    if (!atLeast(identity.role, input.role)) throw new ApiError("forbidden", `You are ${identity.role}: you cannot mint a token of the role ${input.role}.`);
    const created = await tokens.create(input.name, input.role, input.expiresInDays ?? DEFAULT_TOKEN_DAYS, actorOf(identity));
    logger.info({ token: created.id, name: created.name, role: created.role, actor: created.createdBy }, "API token created");
    res.status(201).location(`/admin/api/tokens/${created.id}`).json(created);
  });

  router.delete("/tokens/:id", async (req, res) => {
    const identity = identityOf(req);
    const found = await tokens.find(idOf(req));
    if (found === undefined) throw new ApiError("not_found", "No such token.");
    if (!atLeast(identity.role, "admin") && found.createdBy !== actorOf(identity)) throw new ApiError("forbidden", "Only an admin revokes another's token.");
    await tokens.delete(found.id);
    logger.info({ token: found.id, name: found.name, actor: actorOf(identity) }, "API token revoked");
    res.status(204).end();
  });

  router.get("/sessions", async (_req, res) => {
    res.json({ sessions: await sessions.list() });
  });

  router.delete("/sessions/:id", async (req, res) => {
    if (!(await sessions.revoke(idOf(req)))) throw new ApiError("not_found", "No such session.");
    logger.info({ session: req.params.id, actor: actorOf(identityOf(req)) }, "admin session revoked");
    res.status(204).end();
  });

  return router;
}
