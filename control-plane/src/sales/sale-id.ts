/** Ids for a sale the admin gave none: a slug of its name. */
import { MAX_SALE_ID_LENGTH } from "@flash-sale/contract/ids";

const SUFFIX_LENGTH = 6;

function slugOf(name: string, maxLength: number): string {
  return name
    .normalize("NFKD")
    .replace(/[\u0300-\u036f]/g, "") // accents: "Crème" → "creme"
    .toLowerCase()
    .replace(/[^a-z0-9]+/g, "-")
    .replace(/^-+/, "")
    .slice(0, maxLength)
    .replace(/-+$/, "");
}

/**
 * Ids to try in turn: the slug of the name, then the slug with a random suffix, as names
 * repeat (a weekly sale) and some have no ASCII letter or digit at all ("秒杀").
 */
export function saleIdsFromName(name: string, count: number): string[] {
  const slug = slugOf(name, MAX_SALE_ID_LENGTH);
  const ids = slug === "" ? [] : [slug];
  const stem = slugOf(name, MAX_SALE_ID_LENGTH - SUFFIX_LENGTH - 1) || "sale";
  while (ids.length < count) ids.push(`${stem}-${crypto.randomUUID().slice(0, SUFFIX_LENGTH)}`);
  return ids;
}
