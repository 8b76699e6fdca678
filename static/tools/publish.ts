/**
 * Publishes the shopper pages into static/build/public: each compiled module and stylesheet
 * under assets/ with a hash of its content in its name (so it can be cached for a year), and
 * the HTML pages with those names filled in. A module's hash covers the hashed names of what it
 * imports, so a change anywhere renames every module that depends on it.
 *
 * A page in html/*.html is its <main>, under a first line of settings that fill the frame
 * all pages share, layout/page.html: {{page title="…" skip="…"}}, with module="sale-page" (its
 * script), phase="…" (the body's data-phase), current="orders" (the My orders link marked as
 * this page) and robots="noindex" where the page has them. {{part:login}} stands for
 * layout/login.html, indented as the placeholder. In the frame, {{style:site.css}} → a
 * stylesheet link, {{module:sale-page}} → the module's script tag, with modulepreload links for
 * everything it imports.
 */
import { createHash } from "node:crypto";
import { mkdirSync, readFileSync, readdirSync, rmSync, writeFileSync } from "node:fs";
import path from "node:path";

const STATIC_DIR = path.resolve(__dirname, "../..");
const JS_DIR = path.join(STATIC_DIR, "build/js");
const OUT_DIR = path.join(STATIC_DIR, "build/public");
const ASSETS_DIR = path.join(OUT_DIR, "assets");
const LAYOUT_DIR = path.join(STATIC_DIR, "layout");
/** Relative imports as tsc emits them: `from "./x.js"` and `import "./x.js"`. */
const IMPORT = /(\bfrom\s*|\bimport\s*)"\.\/([\w-]+)\.js"/g;

function hashed(name: string, ext: string, content: string): string {
  return `${name}.${createHash("sha256").update(content).digest("hex").slice(0, 12)}${ext}`;
}

interface PublishedModule {
  file: string;
  /** Every module it imports, directly or not, by published file name. */
  deps: Set<string>;
}

function publishModules(): Map<string, PublishedModule> {
  const published = new Map<string, PublishedModule>();
  const visiting = new Set<string>();
  const publish = (name: string): PublishedModule => {
    const done = published.get(name);
    if (done !== undefined) return done;
    if (visiting.has(name)) throw new Error(`import cycle through ${name}.js`);
    visiting.add(name);
    const deps = new Set<string>();
    const source = readFileSync(path.join(JS_DIR, `${name}.js`), "utf8").replace(IMPORT, (_m, lead: string, dep: string) => {
      const d = publish(dep);
      deps.add(d.file);
      for (const x of d.deps) deps.add(x);
      return `${lead}"./${d.file}"`;
    });
    const file = hashed(name, ".js", source);
    writeFileSync(path.join(ASSETS_DIR, file), source);
    const result = { file, deps };
    published.set(name, result);
    return result;
  };
  for (const f of readdirSync(JS_DIR)) if (f.endsWith(".js")) publish(f.slice(0, -3));
  return published;
}

function publishStyles(): Map<string, string> {
  const files = new Map<string, string>();
  for (const f of readdirSync(path.join(STATIC_DIR, "css"))) {
    const content = readFileSync(path.join(STATIC_DIR, "css", f), "utf8");
    const file = hashed(path.basename(f, ".css"), ".css", content);
    writeFileSync(path.join(ASSETS_DIR, file), content);
    files.set(f, file);
  }
  return files;
}

/** The page's settings line and <main> in the shared frame, its parts filled in. */
function framePage(file: string, page: string): string {
  const newline = page.indexOf("\n");
  const head = /^\{\{page (.*)\}\}$/.exec(page.slice(0, newline));
  if (head === null) throw new Error(`html/${file}: the first line is not {{page …}}`);
  const settings = new Map([...head[1]!.matchAll(/(\w+)="([^"]*)"/g)].map(([, key, value]) => [key!, value!]));
  const main = page.slice(newline + 1).replace(/^( *)\{\{part:([\w-]+)\}\}$/gm, (_m, indent: string, name: string) =>
    readFileSync(path.join(LAYOUT_DIR, `${name}.html`), "utf8").trimEnd().split("\n").map((line) => indent + line).join("\n"),
  );
  const setting = (key: string, present: (value: string) => string): string => {
    const value = settings.get(key);
    return value === undefined ? "" : present(value);
  };
  const slots: Record<string, string> = {
    head: setting("robots", (v) => `<meta name="robots" content="${v}">\n`),
    title: setting("title", (v) => v),
    script: setting("module", (v) => `{{module:${v}}}\n`),
    body: setting("phase", (v) => ` data-phase="${v}"`),
    skip: setting("skip", (v) => v),
    orders: setting("current", (v) => {
      if (v !== "orders") throw new Error(`html/${file}: current="${v}", but only the My orders link can be marked`);
      return ' aria-current="page"';
    }),
    main,
  };
  return readFileSync(path.join(LAYOUT_DIR, "page.html"), "utf8").replace(/\{\{(head|title|script|body|skip|orders|main)\}\}/g, (_m, slot: string) => slots[slot]!);
}

function renderPage(html: string, modules: Map<string, PublishedModule>, styles: Map<string, string>): string {
  return html.replace(/\{\{(style|module):([\w.-]+)\}\}/g, (_m, kind: string, name: string) => {
    if (kind === "style") {
      const file = styles.get(name);
      if (file === undefined) throw new Error(`no stylesheet css/${name}`);
      return `<link rel="stylesheet" href="/assets/${file}">`;
    }
    const mod = modules.get(name);
    if (mod === undefined) throw new Error(`no module src/${name}.ts`);
    const preloads = [...mod.deps].map((d) => `<link rel="modulepreload" href="/assets/${d}">`);
    return [...preloads, `<script type="module" src="/assets/${mod.file}"></script>`].join("\n");
  });
}

rmSync(OUT_DIR, { recursive: true, force: true });
mkdirSync(ASSETS_DIR, { recursive: true });
const modules = publishModules();
const styles = publishStyles();
for (const f of readdirSync(path.join(STATIC_DIR, "html"))) {
  writeFileSync(path.join(OUT_DIR, f), renderPage(framePage(f, readFileSync(path.join(STATIC_DIR, "html", f), "utf8")), modules, styles));
}
console.log(`static: published ${modules.size} modules, ${styles.size} stylesheets into ${path.relative(process.cwd(), OUT_DIR) || "."}`);
