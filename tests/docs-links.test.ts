/**
 * Every relative link of the READMEs and docs/ leads somewhere: the file exists and, for a link
 * into a Markdown file, the heading its anchor names does too (GitHub's slugs). The documents
 * point at each other by section, and moving a section must not leave a link behind.
 */
import { existsSync, readdirSync, readFileSync, statSync } from "node:fs";
import path from "node:path";

const ROOT = path.resolve(__dirname, "..");

function markdownFiles(dir: string): string[] {
  return readdirSync(dir).flatMap((name) => {
    const file = path.join(dir, name);
    if (statSync(file).isDirectory()) return markdownFiles(file);
    return name.endsWith(".md") ? [file] : [];
  });
}

const DOCUMENTS = [path.join(ROOT, "README.md"), ...markdownFiles(path.join(ROOT, "docs")), path.join(ROOT, "deploy/kubernetes/README.md")];

/** The text outside fenced code blocks and inline code, where a link is a link. */
function prose(text: string): string {
  return text.replace(/^```[\s\S]*?^```/gm, "").replace(/`[^`\n]*`/g, "");
}

/** GitHub's anchor for each heading: lower case, punctuation dropped, spaces to hyphens, repeats numbered. */
function anchors(file: string): Set<string> {
  const seen = new Map<string, number>();
  const out = new Set<string>();
  for (const [, title] of prose(readFileSync(file, "utf8")).matchAll(/^#{1,6} (.+)$/gm)) {
    const slug = title!
      .trim()
      .toLowerCase()
      .replace(/[^\p{L}\p{N} _-]/gu, "")
      .replace(/ /g, "-");
    const n = seen.get(slug) ?? 0;
    seen.set(slug, n + 1);
    out.add(n === 0 ? slug : `${slug}-${n}`);
  }
  return out;
}

function brokenLinks(file: string, text = readFileSync(file, "utf8")): string[] {
  const broken: string[] = [];
  for (const [, target] of prose(text).matchAll(/\]\(([^)\s]+)\)/g)) {
    if (/^[a-z]+:/i.test(target!)) continue; // https:, mailto:
    const [ref, anchor] = target!.split("#") as [string, string | undefined];
    const linked = ref === "" ? file : path.resolve(path.dirname(file), ref);
    if (!existsSync(linked)) broken.push(`${target}: no such file`);
    else if (anchor !== undefined && linked.endsWith(".md") && !anchors(linked).has(anchor)) broken.push(`${target}: no such heading`);
  }
  return broken;
}

test.each(DOCUMENTS.map((file) => [path.relative(ROOT, file), file]))("%s: every relative link resolves", (_name, file) => {
  expect(brokenLinks(file)).toEqual([]);
});

test("the README stays a front door", () => {
  expect(readFileSync(path.join(ROOT, "README.md"), "utf8").split("\n").length).toBeLessThanOrEqual(300);
});

test("the checker finds a missing file and a missing heading, outside code only", () => {
  const text = "[a](nope.md) [b](README.md#nope) [c](README.md#documents) [d](https://example.com/x) `[e](nope.md)`\n```\n[f](nope.md)\n```\n";
  expect(brokenLinks(path.join(ROOT, "docs", "fixture.md"), text)).toEqual(["nope.md: no such file", "README.md#nope: no such heading"]);
});
