/**
 * Sign-in to the admin UI through the shop's OpenID Connect provider: authorization code with
 * PKCE (openid-client), state and nonce checked; the ID token's issuer, audience, expiry and
 * signature are checked by openid-client; claims the ID token lacks come from the userinfo
 * endpoint. The PKCE verifier, state and nonce wait in a short-lived HttpOnly cookie. The operator is matched by subject, or by email the first time;
 * with a role claim configured, the claim's role is written to the operator at each sign-in.
 */
import type { Request, Response } from "express";
import type * as OpenIdClient from "openid-client";
import { isRole, ROLES, type Role } from "./roles";
import { cookieValue } from "./sessions";

export interface AdminOidcSettings {
  issuer: string;
  clientId: string;
  clientSecret: string;
  /** This control plane's /admin/oidc/callback as the browser reaches it (registered at the provider). */
  redirectUrl: string;
  /** A claim naming the operator's role (a role or a list of them: the highest counts); absent: roles are assigned here. */
  roleClaim?: string;
  secureCookies: boolean;
}

export interface OidcClaims {
  subject: string;
  /** Only an email the provider verified (or does not say it did not). */
  email: string | undefined;
  /** From the role claim; undefined when none is configured, null when it names no role. */
  role: Role | null | undefined;
}

export const OIDC_START = "/admin/oidc/start";
export const OIDC_CALLBACK = "/admin/oidc/callback";
const FLOW_COOKIE = "fs_admin_oidc";
const FLOW_TTL_MS = 10 * 60_000;

/** openid-client is an ES module: loaded on the first sign-in, so that CommonJS (tests) loads this file. */
function openIdClient(): Promise<typeof OpenIdClient> {
  return import("openid-client");
}

interface Flow {
  state: string;
  nonce: string;
  verifier: string;
}

function roleOf(value: unknown): Role | null {
  const named = (Array.isArray(value) ? value : [value]).filter(isRole);
  return named.length === 0 ? null : named.reduce((a, b) => (ROLES.indexOf(b) > ROLES.indexOf(a) ? b : a));
}

export class AdminOidc {
  private config: Promise<OpenIdClient.Configuration> | undefined;

  constructor(private readonly settings: AdminOidcSettings) {}

  /** Discovered once; a failed discovery is tried again on the next sign-in. */
  private configuration(): Promise<OpenIdClient.Configuration> {
    if (this.config === undefined) {
      const issuer = new URL(this.settings.issuer);
      this.config = openIdClient()
        .then((client) =>
          client.discovery(issuer, this.settings.clientId, this.settings.clientSecret, undefined, {
            // A provider on plain http is for local runs and tests only.
            execute: issuer.protocol === "http:" ? [client.allowInsecureRequests] : [],
          }),
        )
        .catch((err: unknown) => {
          this.config = undefined;
          throw err;
        });
    }
    return this.config;
  }

  /** The provider's authorization URL for this browser; its flow cookie set. */
  async start(res: Response): Promise<URL> {
    const client = await openIdClient();
    const config = await this.configuration();
    const flow: Flow = { state: client.randomState(), nonce: client.randomNonce(), verifier: client.randomPKCECodeVerifier() };
    // Lax: the provider's redirect back is a top-level navigation from another site.
    res.cookie(FLOW_COOKIE, Buffer.from(JSON.stringify(flow)).toString("base64url"), {
      httpOnly: true,
      sameSite: "lax",
      secure: this.settings.secureCookies,
      path: OIDC_CALLBACK,
      maxAge: FLOW_TTL_MS,
    });
    return client.buildAuthorizationUrl(config, {
      redirect_uri: this.settings.redirectUrl,
      scope: "openid email profile",
      state: flow.state,
      nonce: flow.nonce,
      code_challenge: await client.calculatePKCECodeChallenge(flow.verifier),
      code_challenge_method: "S256",
    });
  }

  /** The provider's answer checked and exchanged: the signed-in account's claims. Throws on any failure. */
  async finish(req: Request, res: Response): Promise<OidcClaims> {
    const raw = cookieValue(req, FLOW_COOKIE);
    res.clearCookie(FLOW_COOKIE, { path: OIDC_CALLBACK });
    if (raw === undefined) throw new Error("no sign-in in progress in this browser");
    const flow = JSON.parse(Buffer.from(raw, "base64url").toString("utf8")) as Flow;
    const current = new URL(this.settings.redirectUrl);
    current.search = new URL(req.originalUrl, current).search;
    const client = await openIdClient();
    const config = await this.configuration();
    const tokens = await client.authorizationCodeGrant(config, current, {
      pkceCodeVerifier: flow.verifier,
      expectedState: flow.state,
      expectedNonce: flow.nonce,
      idTokenExpected: true,
    });
    const idClaims = tokens.claims()!;
    const { roleClaim } = this.settings;
    // A provider may give the scopes' claims at its userinfo endpoint only (OpenID Connect Core
    // 5.4; oidc-provider does): asked there, for the same subject, the ID token's own winning.
    const missing = idClaims.email === undefined || (roleClaim !== undefined && idClaims[roleClaim] === undefined);
    const claims = missing ? { ...(await client.fetchUserInfo(config, tokens.access_token, idClaims.sub)), ...idClaims } : idClaims;
    const email = typeof claims.email === "string" && claims.email_verified !== false ? claims.email : undefined;
    return {
      subject: claims.sub,
      email,
      role: roleClaim === undefined ? undefined : roleOf(claims[roleClaim]),
    };
  }
}
