import { hostRefusal, isPrivateAddress, urlRefusal } from "../src/webhooks/address-check";

test.each([
  "127.0.0.1",
  "127.255.0.9",
  "10.1.2.3",
  "172.16.0.1",
  "172.31.255.255",
  "192.168.1.1",
  "169.254.169.254",
  "100.64.0.1",
  "0.0.0.0",
  "224.0.0.1",
  "255.255.255.255",
  "::1",
  "::",
  "fd00::1",
  "fe80::1",
  "ff02::1",
  "::ffff:127.0.0.1",
  "::ffff:10.0.0.1",
  "::ffff:a9fe:a9fe",
  "not-an-address",
])("%s is not public", (address) => {
  expect(isPrivateAddress(address)).toBe(true);
});

test.each(["8.8.8.8", "1.1.1.1", "172.32.0.1", "100.128.0.1", "2606:4700:4700::1111", "::ffff:8.8.8.8"])("%s is public", (address) => {
  expect(isPrivateAddress(address)).toBe(false);
});

test("only absolute http(s) URLs without credentials or fragment", () => {
  expect(urlRefusal("https://shop.example/hooks")).toBeUndefined();
  expect(urlRefusal("http://shop.example:8443/hooks?x=1")).toBeUndefined();
  expect(urlRefusal("ftp://shop.example/")).toBe("must be an http or https URL");
  expect(urlRefusal("file:///etc/passwd")).toBe("must be an http or https URL");
  expect(urlRefusal("/hooks")).toBe("must be an absolute URL");
  expect(urlRefusal("https://user:pw@shop.example/")).toBe("must not carry credentials");
  expect(urlRefusal("https://shop.example/#x")).toBe("must not carry a fragment");
});

test("a host is checked by every address it resolves to, unless private addresses are allowed", async () => {
  expect(await hostRefusal("127.0.0.1", false)).toMatch(/127\.0\.0\.1, a private or reserved address/);
  expect(await hostRefusal("::1", false)).toMatch(/::1/);
  // localhost resolves (from /etc/hosts) to loopback addresses only.
  expect(await hostRefusal("localhost", false)).toMatch(/resolves to (127\.0\.0\.1|::1)/);
  expect(await hostRefusal("localhost", true)).toBeUndefined();
  expect(await hostRefusal("8.8.8.8", false)).toBeUndefined();
  expect(await hostRefusal("no-such-host.invalid", true)).toMatch(/does not resolve/);
});
