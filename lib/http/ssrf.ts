import ipaddr from 'ipaddr.js';
import { networkInterfaces } from 'node:os';

/**
 * Mattermost's outbound filter: a URL whose host is literally in the allow list
 * may go anywhere; otherwise every address the host resolves to must be public (not reserved and
 * not one of this machine's own), or inside a CIDR of the allow list.
 */
const RESERVED_RANGES = [
  '10.0.0.0/8', '172.16.0.0/12', '192.168.0.0/16', '127.0.0.0/8', '0.0.0.0/8', '169.254.0.0/16', '192.0.0.0/24',
  '192.0.2.0/24', '198.51.100.0/24', '203.0.113.0/24', '192.88.99.0/24', '198.18.0.0/15', '224.0.0.0/4', '240.0.0.0/4',
  '255.255.255.255/32', '100.64.0.0/10',
  '::/128', '::1/128', '100::/64', '2001::/23', '2001:2::/48', '2001:db8::/32', '2001::/32', 'fc00::/7', 'fe80::/10',
  'ff00::/8', '2002::/16', '64:ff9b::/96', '2001:10::/28', '2001:20::/28',
  // IPv4 written inside IPv6 in the two forms that are not IPv4-mapped (which `normalize` unwraps):
  // IPv4-compatible (::a.b.c.d, deprecated) and IPv4-translated (::ffff:0:a.b.c.d). Some stacks
  // route them to the IPv4 address they carry, so ::127.0.0.1 could reach loopback; no public
  // service is addressed this way, so both are refused whole.
  '::/96', '::ffff:0:0:0/96',
  // The rest of IANA's reserved ::/8 (no public service lives there), the local-use NAT64 prefix
  // (RFC 8215, which can carry 169.254.169.254) and the deprecated site-local range.
  '::/8', '64:ff9b:1::/48', 'fec0::/10',
].map((cidr) => ipaddr.parseCIDR(cidr));

export const ADDRESS_FORBIDDEN =
  'address forbidden, you may need to set AllowedUntrustedInternalConnections to allow an integration access to your internal network';

type Address = ipaddr.IPv4 | ipaddr.IPv6;

/**
 * Rewrites a trailing dotted quad of an IPv6 address as two hex groups (::127.0.0.1 -> ::7f00:1):
 * ipaddr.js reads every such address as IPv4-mapped, which would judge the IPv4-compatible form
 * as the IPv4 address it carries.
 */
function withoutDottedQuad(address: string): string {
  const match = /^(.*:)(\d{1,3})\.(\d{1,3})\.(\d{1,3})\.(\d{1,3})$/.exec(address);
  if (!match || !address.includes(':')) return address;
  const [a, b, c, d] = match.slice(2).map(Number) as [number, number, number, number];
  if ([a, b, c, d].some((octet) => octet > 255)) return address;
  return `${match[1]}${((a << 8) | b).toString(16)}:${((c << 8) | d).toString(16)}`;
}

/** IPv4-mapped IPv6 addresses (::ffff:127.0.0.1) are judged as the IPv4 address they carry. */
function normalize(address: string): Address | undefined {
  const spelled = withoutDottedQuad(address);
  if (!ipaddr.isValid(spelled)) return undefined;
  const parsed = ipaddr.parse(spelled);
  return parsed.kind() === 'ipv6' && (parsed as ipaddr.IPv6).isIPv4MappedAddress()
    ? (parsed as ipaddr.IPv6).toIPv4Address()
    : parsed;
}

function inRange(address: Address, [range, bits]: [Address, number]): boolean {
  return address.kind() === range.kind() && address.match(range, bits);
}

let ownAddresses: Address[] | undefined;
function isOwnAddress(address: Address): boolean {
  ownAddresses ??= Object.values(networkInterfaces())
    .flat()
    .map((entry) => (entry ? normalize(entry.address.split('%')[0]!) : undefined))
    .filter((entry): entry is Address => entry !== undefined);
  return ownAddresses.some((own) => own.kind() === address.kind() && own.toString() === address.toString());
}

export class AllowList {
  private readonly hosts: Set<string>;
  private readonly ranges: Array<[Address, number]>;

  constructor(entries: string[]) {
    this.hosts = new Set(entries.map((entry) => entry.toLowerCase()));
    this.ranges = entries.filter((entry) => entry.includes('/') && ipaddr.isValidCIDR(entry)).map((entry) => ipaddr.parseCIDR(entry));
  }

  /** A URL host written exactly as an allow-list entry skips the address checks. */
  allowsHost(hostname: string): boolean {
    return this.hosts.has(hostname.toLowerCase().replace(/^\[|\]$/g, ''));
  }

  /** An address may be dialled if it is public, or inside a CIDR of the allow list. */
  allowsAddress(address: string): boolean {
    const parsed = normalize(address);
    if (!parsed) return false;
    const reserved = RESERVED_RANGES.some((range) => inRange(parsed, range)) || isOwnAddress(parsed);
    return !reserved || this.ranges.some((range) => inRange(parsed, range));
  }
}
