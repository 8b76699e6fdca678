/**
 * Where a webhook may go (SSRF): an http(s) URL whose host resolves to public addresses only.
 * A private, loopback, link-local (cloud metadata), shared or reserved address is refused unless
 * allowed (FS_WEBHOOK_ALLOW_PRIVATE_URLS, a receiver on the same host or network). The check is
 * made when an endpoint is saved and again at each connection (a name may resolve elsewhere later).
 */
import { BlockList, isIP } from "node:net";
import { lookup, type LookupAddress } from "node:dns";

const NOT_PUBLIC = new BlockList();
for (const [net, prefix] of [
  ["0.0.0.0", 8], // "this" network
  ["10.0.0.0", 8],
  ["100.64.0.0", 10], // shared (carrier-grade NAT)
  ["127.0.0.0", 8],
  ["169.254.0.0", 16], // link-local, cloud metadata
  ["172.16.0.0", 12],
  ["192.0.0.0", 24],
  ["192.0.2.0", 24],
  ["192.168.0.0", 16],
  ["198.18.0.0", 15],
  ["198.51.100.0", 24],
  ["203.0.113.0", 24],
  ["224.0.0.0", 4], // multicast
  ["240.0.0.0", 4], // reserved, broadcast
] as const) {
  NOT_PUBLIC.addSubnet(net, prefix, "ipv4");
}
for (const [net, prefix] of [
  ["::", 128],
  ["::1", 128],
  ["64:ff9b:1::", 48], // local-use NAT64
  ["100::", 64], // discard
  ["2001:db8::", 32], // documentation
  ["fc00::", 7], // unique local
  ["fe80::", 10], // link-local
  ["fec0::", 10], // site-local
  ["ff00::", 8], // multicast
] as const) {
  NOT_PUBLIC.addSubnet(net, prefix, "ipv6");
}

/** True for an address a webhook must not reach by default (IPv4-mapped IPv6 checked as IPv4). */
export function isPrivateAddress(address: string): boolean {
  const family = isIP(address);
  if (family === 0) return true;
  return NOT_PUBLIC.check(address, family === 4 ? "ipv4" : "ipv6");
}

/** Why the URL cannot be an endpoint's, as written (no lookup); undefined when it can. */
export function urlRefusal(raw: string): string | undefined {
  let url: URL;
  try {
    url = new URL(raw);
  } catch {
    return "must be an absolute URL";
  }
  if (url.protocol !== "http:" && url.protocol !== "https:") return "must be an http or https URL";
  if (url.username !== "" || url.password !== "") return "must not carry credentials";
  if (url.hash !== "") return "must not carry a fragment";
  return undefined;
}

/** The URL's host as an address or a name (IPv6 without its brackets). */
export function hostOf(url: URL): string {
  return url.hostname.replace(/^\[|\]$/g, "");
}

function resolveAll(host: string): Promise<LookupAddress[]> {
  return new Promise((resolve, reject) => lookup(host, { all: true }, (err, addresses) => (err ? reject(err) : resolve(addresses))));
}

/** Why the host cannot be reached by a webhook (it does not resolve, or one of its addresses is not public); undefined when it can. */
export async function hostRefusal(host: string, allowPrivate: boolean): Promise<string | undefined> {
  let addresses: string[];
  if (isIP(host) !== 0) addresses = [host];
  else {
    try {
      addresses = (await resolveAll(host)).map((a) => a.address);
    } catch (err) {
      return `its host ${host} does not resolve (${(err as NodeJS.ErrnoException).code ?? (err as Error).message})`;
    }
  }
  if (allowPrivate) return undefined;
  const blocked = addresses.find(isPrivateAddress);
  return blocked === undefined ? undefined : `its host ${host} resolves to ${blocked}, a private or reserved address (FS_WEBHOOK_ALLOW_PRIVATE_URLS=true allows it)`;
}

type LookupCallback = (err: NodeJS.ErrnoException | null, address: string | LookupAddress[], family?: number) => void;

/**
 * A `lookup` for http.request that refuses a name resolving to any non-public address, so the
 * connection goes only where the check allowed (no second resolution in between).
 */
export function guardedLookup(allowPrivate: boolean) {
  return (hostname: string, options: { all?: boolean }, callback: LookupCallback): void => {
    lookup(hostname, { all: true }, (err, addresses) => {
      if (err) return callback(err, []);
      const blocked = allowPrivate ? undefined : addresses.find((a) => isPrivateAddress(a.address));
      if (blocked !== undefined) {
        const refusal: NodeJS.ErrnoException = new Error(`${hostname} resolves to ${blocked.address}, a private or reserved address`);
        refusal.code = "EPRIVATE";
        return callback(refusal, []);
      }
      const first = addresses[0];
      if (options.all === true || first === undefined) return callback(null, addresses);
      callback(null, first.address, first.family);
    });
  };
}
