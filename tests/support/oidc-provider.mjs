// A real OpenID provider (oidc-provider) in its own process. argv[2] is a JSON file of {port, keys
// (private JWKs, signing order), clients, codeClients?, accounts?, idTokenAudience?, codeTtlSeconds?}. Prints
// "ready" once it listens.
// - clients (tests/gateway-jwks.test.ts): JWT access tokens for the resource urn:flash-sale
//   (audience "flash-sale") by client credentials, signed with the alg each `alg` names.
// - codeClients (tests/admin-oidc-browser.test.ts): authorization code with PKCE to their
//   redirect_uris, signed in through oidc-provider's devInteractions (any login, then consent);
//   the login names the account, whose claims `accounts` holds. The ID tokens of an account that
//   `idTokenAudience` names carry that audience instead of the client's: a provider answering
//   for someone else.
import { createPrivateKey, sign } from "node:crypto";
import { readFileSync } from "node:fs";
import Provider from "oidc-provider";

const { port, keys, clients = [], codeClients = [], accounts = {}, idTokenAudience = {}, codeTtlSeconds = 60 } = JSON.parse(readFileSync(process.argv[2], "utf8"));
const issuer = `http://127.0.0.1:${port}`;
const algOf = new Map(clients.map((c) => [c.client_id, c.alg]));
const provider = new Provider(issuer, {
  jwks: { keys },
  clients: [
    ...clients.map((c) => ({
      client_id: c.client_id,
      client_secret: c.client_secret,
      grant_types: ["client_credentials"],
      redirect_uris: [],
      response_types: [],
      token_endpoint_auth_method: "client_secret_post",
    })),
    ...codeClients.map((c) => ({
      client_id: c.client_id,
      client_secret: c.client_secret,
      grant_types: ["authorization_code"],
      redirect_uris: c.redirect_uris,
      response_types: ["code"],
      token_endpoint_auth_method: "client_secret_post",
    })),
  ],
  findAccount: (_ctx, id) => ({ accountId: id, claims: () => ({ sub: id, ...accounts[id] }) }),
  claims: { openid: ["sub"], email: ["email", "email_verified"], profile: ["name"] },
  ttl: { AuthorizationCode: codeTtlSeconds },
  features: {
    clientCredentials: { enabled: true },
    devInteractions: { enabled: true },
    resourceIndicators: {
      enabled: true,
      // A code client's access token is the provider's own, for its userinfo endpoint.
      defaultResource: (_ctx, client) => (algOf.has(client.clientId) ? "urn:flash-sale" : undefined),
      getResourceServerInfo: (_ctx, _resource, client) => ({
        scope: "buy",
        audience: "flash-sale",
        accessTokenTTL: 600,
        accessTokenFormat: "jwt",
        jwt: { sign: { alg: algOf.get(client.clientId) } },
      }),
    },
  },
});

const signingKey = keys.find((k) => k.kty === "RSA");

/** The ID token re-signed with the provider's own key, for the audience its account is given. */
function readdressed(idToken) {
  const [header, payload] = idToken.split(".");
  const claims = JSON.parse(Buffer.from(payload, "base64url").toString("utf8"));
  const audience = idTokenAudience[claims.sub];
  if (audience === undefined) return idToken;
  claims.aud = audience;
  const signed = `${header}.${Buffer.from(JSON.stringify(claims)).toString("base64url")}`;
  return `${signed}.${sign("sha256", Buffer.from(signed), createPrivateKey({ key: signingKey, format: "jwk" })).toString("base64url")}`;
}

provider.use(async (ctx, next) => {
  await next();
  if (ctx.path === "/token" && typeof ctx.body?.id_token === "string") ctx.body = { ...ctx.body, id_token: readdressed(ctx.body.id_token) };
});

provider.listen(port, "127.0.0.1", () => console.log("ready"));
