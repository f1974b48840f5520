import { BlockList, isIP } from 'node:net';

/**
 * Addresses a webhook may not reach unless `central.webhook_allow_private` is set: a user-supplied
 * URL must not turn central into a client of its own database, Redis, metadata service or LAN.
 */
const PRIVATE = new BlockList();
for (const [net, bits] of [
  ['0.0.0.0', 8],
  ['10.0.0.0', 8],
  ['100.64.0.0', 10],
  ['127.0.0.0', 8],
  ['169.254.0.0', 16],
  ['172.16.0.0', 12],
  ['192.0.0.0', 24],
  ['192.168.0.0', 16],
  ['198.18.0.0', 15],
  ['224.0.0.0', 3],
] as const)
  PRIVATE.addSubnet(net, bits, 'ipv4');
for (const [net, bits] of [
  ['::', 127],
  ['fc00::', 7],
  ['fe80::', 10],
  ['ff00::', 8],
] as const)
  PRIVATE.addSubnet(net, bits, 'ipv6');

export function isPrivateAddress(ip: string): boolean {
  const family = isIP(ip);
  if (family === 0) return false;
  // IPv4-mapped IPv6 (::ffff:10.0.0.1) is the IPv4 address.
  const mapped = /^::ffff:(\d+\.\d+\.\d+\.\d+)$/i.exec(ip);
  if (mapped) return PRIVATE.check(mapped[1]!, 'ipv4');
  return PRIVATE.check(ip, family === 4 ? 'ipv4' : 'ipv6');
}

/** A webhook URL as registered, or what is wrong with it (checked without DNS). */
export function checkWebhookUrl(raw: string, allowPrivate: boolean): URL | string {
  let url: URL;
  try {
    url = new URL(raw);
  } catch {
    return 'url: not a valid URL';
  }
  if (url.protocol !== 'https:' && url.protocol !== 'http:') return 'url: must be http(s)';
  if (url.username || url.password) return 'url: must not carry credentials (the signature authenticates central)';
  const host = url.hostname.replace(/^\[|\]$/g, '');
  if (!allowPrivate) {
    if (url.protocol !== 'https:') return 'url: must be https (central.webhook_allow_private allows http on a LAN)';
    if (host === 'localhost' || host.endsWith('.localhost') || isPrivateAddress(host))
      return 'url: a loopback or private address (set central.webhook_allow_private to allow it)';
  }
  return url;
}
