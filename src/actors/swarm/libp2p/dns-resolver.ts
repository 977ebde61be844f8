/**
 * The DNS libp2p resolves `/dnsaddr` addresses with (its `dns` option), on
 * servers the node is given: a DNS-over-HTTPS URL is asked through
 * @multiformats/dns's `dnsOverHttps`, a plain address (`127.0.0.1:5353`,
 * `[::1]:53`) through node:dns (c-ares) with those servers only. Without
 * servers libp2p keeps its own (node:dns on the system's servers).
 *
 * libp2p's dialler resolves `/dnsaddr/<name>` by the TXT records of
 * `_dnsaddr.<name>` (`dnsaddr=<multiaddr>`, those naming the dialled peer
 * id), recursively (an answer may be another `/dnsaddr`), at most 32 levels
 * deep (RecursionLimitError past it), and dials at most 25 of the addresses
 * (the connection manager's maxPeerAddrsToDial). Answers are cached by
 * @multiformats/dns (bounded, by their TTL).
 */
import { Resolver } from 'node:dns/promises'
import { dns, RecordType } from '@multiformats/dns'
import { dnsOverHttps } from '@multiformats/dns/resolvers'
import type { Answer, DNS, DNSResponse, QueryOptions } from '@multiformats/dns'
import type { DNSResolver } from '@multiformats/dns/resolvers'
import { txtData } from '../../dnslink/dns-ops.js'

/** c-ares timeout per try and tries per server: a dead server costs at most ~2 × (2 s + 1 s) */
const TRY_MS = 2_000
const TRIES = 2
/** cached answers (names), @multiformats/dns's LRU */
const CACHE_SIZE = 256
/** c-ares reports no TTL: answers it gives are cached this long (s) */
const NODE_TTL_S = 60

function nodeServerResolver (server: string): DNSResolver {
  // validate now: setServers throws on a malformed address
  new Resolver().setServers([server])
  return async (name: string, options: QueryOptions = {}): Promise<DNSResponse> => {
    const resolver = new Resolver({ timeout: TRY_MS, tries: TRIES })
    resolver.setServers([server])
    const cancel = (): void => { resolver.cancel() }
    options.signal?.addEventListener('abort', cancel)
    try {
      const types = options.types === undefined ? [RecordType.A, RecordType.AAAA] : Array.isArray(options.types) ? options.types : [options.types]
      const answers: Answer[] = []
      for (const type of types) {
        if (type === RecordType.TXT) {
          for (const parts of await resolver.resolveTxt(name)) answers.push({ name, type, TTL: NODE_TTL_S, data: parts.join('') })
        } else if (type === RecordType.A) {
          for (const a of await resolver.resolve4(name)) answers.push({ name, type, TTL: NODE_TTL_S, data: a })
        } else if (type === RecordType.AAAA) {
          for (const a of await resolver.resolve6(name)) answers.push({ name, type, TTL: NODE_TTL_S, data: a })
        } else {
          throw new TypeError(`DNS record type ${String(type)} is not supported here`)
        }
      }
      return { Status: 0, TC: false, RD: true, RA: true, AD: false, CD: false, Question: types.map(type => ({ name, type })), Answer: answers }
    } finally {
      options.signal?.removeEventListener('abort', cancel)
    }
  }
}

/**
 * dnsOverHttps gives a TXT answer's data as it decodes it (its
 * character-strings, bytes), libp2p's /dnsaddr resolver reads a string:
 * join them, as node:dns does
 */
function withTextTxt (resolver: DNSResolver): DNSResolver {
  return async (name, options) => {
    const response = await resolver(name, options)
    return { ...response, Answer: response.Answer.map(a => a.type === RecordType.TXT ? { ...a, data: txtData(a.data) } : a) }
  }
}

/**
 * A resolver asking these servers (DNS-over-HTTPS URLs or plain addresses),
 * tried in turn; undefined for none (libp2p's default). Throws on a malformed
 * address.
 */
export function dnsForServers (servers: readonly string[] | undefined): DNS | undefined {
  if (servers === undefined || servers.length === 0) return undefined
  const resolvers = servers.map(s => /^https?:\/\//.test(s) ? withTextTxt(dnsOverHttps(s)) : nodeServerResolver(s))
  // in the order given (the package's default shuffles them)
  return dns({ resolvers: { '.': resolvers }, cacheSize: CACHE_SIZE, sorter: () => 0 })
}
