/**
 * The admin API's webhook endpoints, under /admin/api/webhooks (behind the admin token like the
 * rest): create (the secret shown once), list, read, change, delete, deliveries, replay, and
 * rotate the secret (the old one signs beside the new one for a grace period).
 */
import { Router, type Request } from "express";
import * as z from "zod/mini";
import type { Logger, Pool } from "@flash-sale/node-common";
import { adminActor } from "./admin-actor";
import { ApiError } from "./api-error";
import { fieldErrors, type FieldError } from "./field-errors";
import { hostOf, hostRefusal, urlRefusal } from "../webhooks/address-check";
import { WebhookEndpoints, type EndpointView } from "../webhooks/endpoints";
import { EVENT_TYPES } from "../webhooks/events";

export const WEBHOOKS_PATH = "/admin/api/webhooks";

export interface WebhookRoutesDeps {
  pool: Pool;
  logger: Logger;
  /** FS_WEBHOOK_ALLOW_PRIVATE_URLS: a receiver on this host or network may be registered. */
  allowPrivateUrls: boolean;
}

const URL_MAX_LENGTH = 2048;
const DESCRIPTION_MAX_LENGTH = 500;
/** How long the previous secret signs after a rotation, by default and at most. */
const DEFAULT_GRACE_SECONDS = 86400;
const MAX_GRACE_SECONDS = 7 * 86400;
const DELIVERIES_PAGE = 100;

const url = z.string({ error: "must be a text" }).check(z.maxLength(URL_MAX_LENGTH, `must be at most ${URL_MAX_LENGTH} characters`));
const events = z
  .array(z.enum(EVENT_TYPES, { error: `must be one of ${EVENT_TYPES.join(", ")}` }), { error: "must be a list of event types" })
  .check(z.minLength(1, "must name at least one event type"));
const description = z.nullable(
  z.string({ error: "must be a text or null" }).check(z.maxLength(DESCRIPTION_MAX_LENGTH, `must be at most ${DESCRIPTION_MAX_LENGTH} characters`)),
);

const createSchema = z.strictObject({ url, events: z.optional(events), description: z.optional(description) });
const changeSchema = z.strictObject({
  url: z.optional(url),
  events: z.optional(events),
  description: z.optional(description),
  enabled: z.optional(z.boolean({ error: "must be true or false" })),
});
const replaySchema = z.strictObject({ since: z.iso.datetime({ offset: true, error: "must be an ISO 8601 instant" }) });
const rotateSchema = z.strictObject({
  graceSeconds: z.optional(
    z.int({ error: "must be a whole number of seconds" }).check(z.minimum(0, "must be at least 0"), z.maximum(MAX_GRACE_SECONDS, `must be at most ${MAX_GRACE_SECONDS}`)),
  ),
});

function invalid(fields: FieldError[]): ApiError {
  const summary = fields.map((f) => (f.path === "" ? f.message : `${f.path}: ${f.message}`)).join("; ");
  return new ApiError("bad_request", `The webhook request is invalid: ${summary}.`, { fields });
}

function parse<T>(schema: z.ZodMiniType<T>, req: Request): T {
  // A call without a body (no Content-Type) reads as an empty object.
  const parsed = schema.safeParse(req.body ?? {});
  if (!parsed.success) throw invalid(fieldErrors(parsed.error));
  return parsed.data;
}

function notFound(): ApiError {
  return new ApiError("webhook_not_found");
}

export function webhookRoutes({ pool, logger, allowPrivateUrls }: WebhookRoutesDeps): Router {
  const endpoints = new WebhookEndpoints(pool);
  const router = Router();

  /** Refuses a URL that is not http(s), or whose host does not resolve to public addresses only (unless allowed). */
  async function checkUrl(raw: string): Promise<void> {
    const refusal = urlRefusal(raw) ?? (await hostRefusal(hostOf(new URL(raw)), allowPrivateUrls));
    if (refusal !== undefined) throw invalid([{ path: "url", message: refusal }]);
  }

  async function found(id: string): Promise<EndpointView> {
    const endpoint = await endpoints.find(id);
    if (endpoint === undefined) throw notFound();
    return endpoint;
  }

  router.post("/", async (req, res) => {
    const input = parse(createSchema, req);
    await checkUrl(input.url);
    const created = await endpoints.create({
      url: input.url,
      events: [...new Set(input.events ?? EVENT_TYPES)],
      description: input.description ?? null,
    });
    logger.info({ endpoint: created.id, url: created.url, events: created.events, actor: adminActor(req) }, "webhook endpoint created");
    res.status(201).location(`${WEBHOOKS_PATH}/${created.id}`).json(created);
  });

  router.get("/", async (_req, res) => {
    res.json({ endpoints: await endpoints.list() });
  });

  router.get("/:id", async (req, res) => {
    res.json(await found(req.params.id));
  });

  router.patch("/:id", async (req, res) => {
    const change = parse(changeSchema, req);
    const actor = adminActor(req);
    if (change.url !== undefined) await checkUrl(change.url);
    const events = change.events === undefined ? undefined : [...new Set(change.events)];
    const updated = await endpoints.update(req.params.id, { ...change, events }, actor);
    if (updated === undefined) throw notFound();
    logger.info({ endpoint: updated.id, change, actor }, "webhook endpoint changed");
    res.json(updated);
  });

  router.delete("/:id", async (req, res) => {
    if (!(await endpoints.delete(req.params.id))) throw notFound();
    logger.info({ endpoint: req.params.id, actor: adminActor(req) }, "webhook endpoint deleted");
    res.status(204).end();
  });

  router.get("/:id/deliveries", async (req, res) => {
    await found(req.params.id);
    const before = typeof req.query.before === "string" ? req.query.before : undefined;
    if (before !== undefined && !/^\d{1,18}$/.test(before)) throw invalid([{ path: "before", message: "must be the next cursor of a page" }]);
    const status = req.query.status;
    if (status !== undefined && status !== "pending" && status !== "delivered") throw invalid([{ path: "status", message: "must be pending or delivered" }]);
    const pending = status === undefined ? undefined : status === "pending";
    res.json(await endpoints.deliveries(req.params.id, { limit: DELIVERIES_PAGE, before, pending }));
  });

  router.post("/:id/replay", async (req, res) => {
    const { since } = parse(replaySchema, req);
    await found(req.params.id);
    const replayed = await endpoints.replay(req.params.id, new Date(since));
    logger.info({ endpoint: req.params.id, since, replayed, actor: adminActor(req) }, "webhook events replayed");
    res.status(202).json({ replayed });
  });

  router.post("/:id/rotate-secret", async (req, res) => {
    const { graceSeconds = DEFAULT_GRACE_SECONDS } = parse(rotateSchema, req);
    const rotated = await endpoints.rotateSecret(req.params.id, graceSeconds);
    if (rotated === undefined) throw notFound();
    logger.info({ endpoint: req.params.id, graceSeconds, actor: adminActor(req) }, "webhook endpoint secret rotated");
    res.json({ ...rotated.endpoint, secret: rotated.secret });
  });

  return router;
}
