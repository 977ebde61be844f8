/**
 * Protocol of the DNSLink actor: a domain's `dnslink=/ipfs/…` or
 * `dnslink=/ipns/…` TXT record, looked up in DNS (`_dnslink.<domain>`, then
 * the bare domain) and kept in a TTL cache. The IPNS resolver asks it when a
 * name is a domain and carries on with the value.
 */

export interface DnsLinkResolve {
  type: 'dnslink.resolve'
  /**
   * a DNS name such as `example.com` (ASCII; an IDN in its xn-- form), at
   * least two labels; a trailing dot and a leading `_dnslink.` are accepted
   * and dropped; letters are folded to lower case
   */
  domain: string
  /** skip the cache and ask DNS (the answer still refreshes the cache); default false */
  nocache?: boolean
  /** answer from the cache only, never ask DNS: NotFoundError when it is not cached (an offline IPNS resolve); default false */
  offline?: boolean
}

export type DnsLinkSource = 'cache' | 'dns'

export interface DnsLinkReply {
  /** `/ipfs/<cid>[/path]` or `/ipns/<name|domain>[/path]`, as the record has it */
  value: string
  /**
   * how long the answer stays fresh, ms: for 'dns' the TTL it is cached for,
   * for 'cache' what is left of it (0 when the answer was not cached)
   */
  ttlMs: number
  source: DnsLinkSource
  /** the DNS name whose TXT record held the link: `_dnslink.<domain>` or, by fallback, `<domain>` */
  from: string
}

declare module './commands.js' {
  interface CommandMap {
    'dnslink.resolve': { command: DnsLinkResolve, reply: DnsLinkReply }
  }
}
