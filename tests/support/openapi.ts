/**
 * openapi.yaml as the tests' contract: every answer of the gateway or the control plane that a
 * test sees (through request() or fetch) is matched to its path, method and status in the
 * document, and a JSON body is validated with ajv against the documented schema. A mismatch
 * rejects the call that saw it and fails the file (a caller may swallow the rejection).
 */
import { readFileSync } from "node:fs";
import Ajv2020, { type ValidateFunction } from "ajv/dist/2020";
import addFormats from "ajv-formats";
import { parseDocument } from "yaml";
import { OPENAPI_FILE } from "../../control-plane/src/api/openapi";

interface MediaType {
  schema?: unknown;
}
interface ResponseObject {
  description: string;
  content?: Record<string, MediaType>;
}
type Ref = { $ref: string };
type Operation = { responses: Record<string, ResponseObject | Ref> };
type PathItem = Partial<Record<string, Operation>>;
interface Document {
  paths: Record<string, PathItem>;
  components: { schemas: Record<string, unknown>; responses: Record<string, ResponseObject> };
}

interface Route {
  template: string;
  pattern: RegExp;
  item: PathItem;
}

/** The document read by a real YAML parser, strictly, as Swagger UI, Redocly and client generators read it. */
export function openApiDocument(): Document {
  const doc = parseDocument(readFileSync(OPENAPI_FILE, "utf8"), { uniqueKeys: true, strict: true });
  if (doc.errors.length > 0) throw new Error(`openapi.yaml does not parse: ${doc.errors.map((e) => e.message).join("; ")}`);
  return doc.toJS() as Document;
}

// The development login exists only with the gateway knob dev_login; info.description names it.
const UNLISTED = ["/api/dev/login"];
/** The gateway (nginx, info.description) serves the shopper API; any other path it answers is a page or a refusal. */
const GATEWAY_API = "/api/";

/** What the checker reads of an answer's headers. */
export interface AnswerHeaders {
  contentType: string | null | undefined;
  server: string | null | undefined;
}

/** Where the document is the whole truth: a path under these that it does not list is a mismatch. */
function namespaces(paths: string[]): string[] {
  const dirs = paths.map((p) => p.slice(0, p.lastIndexOf("/") + 1)).filter((d) => d !== "/");
  return [...new Set(dirs)].filter((d, _, all) => !all.some((o) => o !== d && d.startsWith(o)));
}

function mediaType(contentType: string | null | undefined): string {
  return (contentType ?? "").split(";")[0]!.trim().toLowerCase();
}

function isJson(media: string): boolean {
  return media === "application/json" || media.endsWith("+json");
}

/** The schemas' refs point into one registered schema of the components (ajv resolves no OpenAPI document). */
function withComponentRefs(schema: unknown): unknown {
  if (Array.isArray(schema)) return schema.map(withComponentRefs);
  if (typeof schema !== "object" || schema === null) return schema;
  return Object.fromEntries(
    Object.entries(schema).map(([k, v]) => {
      if (k !== "$ref") return [k, withComponentRefs(v)];
      const name = /^#\/components\/schemas\/([^/]+)$/.exec(String(v))?.[1];
      if (name === undefined) throw new Error(`openapi.yaml: a schema $ref the checker cannot follow: ${String(v)}`);
      return [k, `components#/$defs/${name}`];
    }),
  );
}

export class OpenApiResponses {
  readonly mismatches: string[] = [];
  /** Answers matched to a documented operation and status. */
  checked = 0;
  /** JSON bodies validated against a schema. */
  bodies = 0;
  /** Answers outside the APIs (pages, /metrics, assets, other services): not checked. */
  outside = 0;
  private readonly routes: Route[];
  private readonly namespaces: string[];
  private readonly ajv = new Ajv2020({ strict: true, allowUnionTypes: true, allErrors: true });
  private readonly validators = new Map<string, ValidateFunction>();

  constructor(private readonly doc: Document) {
    addFormats(this.ajv);
    this.ajv.addSchema({ $id: "components", $defs: withComponentRefs(doc.components.schemas) });
    // Literal segments before parameters: /a/b wins over /a/{id}.
    this.routes = Object.entries(doc.paths)
      .map(([template, item]) => ({
        template,
        item,
        pattern: new RegExp(`^${template.replace(/[.+*?^$()[\]|\\]/g, "\\$&").replace(/\{[^}]+\}/g, "[^/]+")}$`),
      }))
      .sort((a, b) => (a.template.match(/\{/g)?.length ?? 0) - (b.template.match(/\{/g)?.length ?? 0));
    this.namespaces = namespaces(Object.keys(doc.paths));
  }

  private resolve(r: ResponseObject | Ref): ResponseObject {
    if (!("$ref" in r)) return r;
    const name = /^#\/components\/responses\/([^/]+)$/.exec(r.$ref)?.[1];
    const found = name === undefined ? undefined : this.doc.components.responses[name];
    if (found === undefined) throw new Error(`openapi.yaml: a response $ref the checker cannot follow: ${r.$ref}`);
    return found;
  }

  private validator(key: string, schema: unknown): ValidateFunction {
    let v = this.validators.get(key);
    if (v === undefined) {
      v = this.ajv.compile(withComponentRefs(schema) as object);
      this.validators.set(key, v);
    }
    return v;
  }

  /** The mismatch between one answer and the document, if any (also recorded). */
  check(method: string, url: string, status: number, headers: AnswerHeaders, body: string): string | undefined {
    const path = new URL(url).pathname;
    if (headers.server?.startsWith("nginx") === true && !path.startsWith(GATEWAY_API)) {
      this.outside++;
      return undefined;
    }
    const problem = this.problem(method.toUpperCase(), path, status, mediaType(headers.contentType), body);
    if (problem === undefined) return undefined;
    const where = `openapi.yaml: ${method.toUpperCase()} ${path} answered ${status}`;
    const message = `${where}: ${problem}\n  body: ${body.length > 500 ? `${body.slice(0, 500)}…` : body}`;
    this.mismatches.push(message);
    return message;
  }

  /** Whether the document speaks for this path: one it lists, or any other under an API's prefix. */
  concerns(path: string): boolean {
    return this.routes.some((r) => r.pattern.test(path)) || (this.namespaces.some((n) => path.startsWith(n)) && !UNLISTED.includes(path));
  }

  private problem(method: string, path: string, status: number, media: string, body: string): string | undefined {
    const route = this.routes.find((r) => r.pattern.test(path));
    if (route === undefined && !this.concerns(path)) {
      this.outside++;
      return undefined;
    }
    const operation = route?.item[method === "HEAD" ? "get" : method.toLowerCase()];
    // What the APIs do not have, they refuse with an error of the catalogue (info.description).
    if (route === undefined || operation === undefined) return this.refusal(media, status, body, route === undefined ? "the path is not in the document" : `the document lists no ${method} for ${route.template}`);
    const documented = operation.responses[String(status)] ?? operation.responses[`${Math.floor(status / 100)}XX`] ?? operation.responses.default;
    if (documented === undefined) return `status not in the document (it lists ${Object.keys(operation.responses).join(", ")})`;
    this.checked++;
    const response = this.resolve(documented);
    if (method === "HEAD" || body === "") {
      return response.content === undefined || status === 204 ? undefined : `an empty body; the document describes ${Object.keys(response.content).join(", ")}`;
    }
    if (response.content === undefined) return `a ${media} body; the document describes none ("${response.description}")`;
    const content = response.content[media];
    if (content === undefined) return `a ${media} body; the document describes ${Object.keys(response.content).join(", ")}`;
    if (!isJson(media) || content.schema === undefined) return undefined;
    return this.schemaProblem(`${method} ${route.template} ${status} ${media}`, content.schema, body);
  }

  /** A refusal of a path or method the document does not list: a 4xx with a catalogue error. */
  private refusal(media: string, status: number, body: string, what: string): string | undefined {
    if (status < 400 || status > 499 || !isJson(media)) return `${what}, and the answer is no 4xx error of the catalogue`;
    this.checked++;
    const problem = this.schemaProblem("Error", { $ref: "#/components/schemas/Error" }, body);
    return problem === undefined ? undefined : `${what}, and the answer is no error of the catalogue: ${problem}`;
  }

  private schemaProblem(key: string, schema: unknown, body: string): string | undefined {
    let value: unknown;
    try {
      value = JSON.parse(body);
    } catch (e) {
      return `not JSON: ${(e as Error).message}`;
    }
    const validate = this.validator(key, schema);
    this.bodies++;
    if (validate(value)) return undefined;
    return `the body breaks the schema: ${this.ajv.errorsText(validate.errors, { dataVar: "body", separator: "; " })}`;
  }
}

let active: OpenApiResponses | undefined;

/** From now on in this test file (jest's module registry), answers are held to the document; the benches never call it. */
export function holdAnswersToDocument(): OpenApiResponses {
  active ??= new OpenApiResponses(openApiDocument());
  return active;
}

/** Holds one answer to the document, once holdAnswersToDocument ran: throws the mismatch, so the call that saw it fails. */
export function expectDocumented(method: string, url: string, status: number, headers: AnswerHeaders, body: string): void {
  const problem = active?.check(method, url, status, headers, body);
  if (problem !== undefined) throw new Error(problem);
}

/**
 * fetch, with each API answer held to the document before the caller sees it. Other calls are
 * left as they are: the services in the test process fetch too (JWKS, metrics, webhooks), and
 * reading their bodies here would change when they see their answers.
 */
export function checkedFetch(fetch: typeof globalThis.fetch, checker: OpenApiResponses): typeof globalThis.fetch {
  return async (input, init) => {
    const res = await fetch(input, init);
    const url = res.url !== "" ? res.url : input instanceof Request ? input.url : String(input);
    if (!checker.concerns(new URL(url).pathname)) {
      checker.outside++;
      return res;
    }
    const method = init?.method ?? (input instanceof Request ? input.method : "GET");
    const headers = { contentType: res.headers.get("content-type"), server: res.headers.get("server") };
    const problem = checker.check(method, url, res.status, headers, await res.clone().text());
    if (problem !== undefined) throw new Error(problem);
    return res;
  };
}
