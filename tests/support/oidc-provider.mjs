// A real OpenID provider (oidc-provider) in its own process, for tests/gateway-jwks.test.ts:
// argv[2] is a JSON file of {port, keys (private JWKs, signing order), clients}. Each client gets
// JWT access tokens for the resource urn:flash-sale (audience "flash-sale") by client credentials,
// signed with the alg its `alg` names. Prints "ready" once it listens.
import { readFileSync } from "node:fs";
import Provider from "oidc-provider";

const { port, keys, clients } = JSON.parse(readFileSync(process.argv[2], "utf8"));
const issuer = `http://127.0.0.1:${port}`;
const algOf = new Map(clients.map((c) => [c.client_id, c.alg]));
const provider = new Provider(issuer, {
  jwks: { keys },
  clients: clients.map((c) => ({
    client_id: c.client_id,
    client_secret: c.client_secret,
    grant_types: ["client_credentials"],
    redirect_uris: [],
    response_types: [],
    token_endpoint_auth_method: "client_secret_post",
  })),
  features: {
    clientCredentials: { enabled: true },
    resourceIndicators: {
      enabled: true,
      defaultResource: () => "urn:flash-sale",
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
provider.listen(port, "127.0.0.1", () => console.log("ready"));
