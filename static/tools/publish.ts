/**
 * Publishes the shopper pages into static/build/public: each compiled module and stylesheet
 * under assets/ with a hash of its content in its name (so it can be cached for a year), and
 * the HTML pages with those names filled in. A module's hash covers the hashed names of what it
 * imports, so a change anywhere renames every module that depends on it.
 *
 * Placeholders in html/*.html: {{style:site.css}} → a stylesheet link, {{module:sale-page}} →
 * the module's script tag, with modulepreload links for everything it imports.
 */
import { createHash } from "node:crypto";
import { mkdirSync, readFileSync, readdirSync, rmSync, writeFileSync } from "node:fs";
import path from "node:path";

const STATIC_DIR = path.resolve(__dirname, "../..");
const JS_DIR = path.join(STATIC_DIR, "build/js");
const OUT_DIR = path.join(STATIC_DIR, "build/public");
const ASSETS_DIR = path.join(OUT_DIR, "assets");
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
  writeFileSync(path.join(OUT_DIR, f), renderPage(readFileSync(path.join(STATIC_DIR, "html", f), "utf8"), modules, styles));
}
console.log(`static: published ${modules.size} modules, ${styles.size} stylesheets into ${path.relative(process.cwd(), OUT_DIR) || "."}`);
