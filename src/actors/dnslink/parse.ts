/**
 * Pure DNSLink rules: which domains may be looked up, and which TXT record a
 * domain links to.
 *
 * Selection (DNSLink spec, https://dnslink.dev "Multiple records" / "Sorting"):
 * TXT records that do not start with `dnslink=` are ignored, and so are
 * DNSLink records of other namespaces (`/hyper/…`, `/dnslink/…`) and
 * malformed ones (an /ipfs/ root that is not a CID, non-ASCII or control
 * characters) — "implementations should never error on invalid record".
 * Of the valid `/ipfs/` and `/ipns/` links left, duplicates collapse and the
 * lexicographically smallest (by UTF-16 code unit, not locale) wins, so the
 * answer does not depend on the order the DNS server returned them in.
 * (Kubo instead refuses a domain with two different IPFS/IPNS links.)
 */
import { checkContentPath } from '../../records/value.js'

export const DNSLINK_PREFIX = '_dnslink.'
const TXT_PREFIX = 'dnslink='
/** `_dnslink.` + domain must fit a DNS name (253 characters) */
export const MAX_DOMAIN_CHARS = 253 - DNSLINK_PREFIX.length
const LABEL = /^[a-z0-9_](?:[a-z0-9_-]{0,61}[a-z0-9_])?$/
const PRINTABLE_ASCII = /^[\x21-\x7e]+$/
/** longest link value taken from a record */
export const MAX_LINK_CHARS = 4096

export type DomainCheck = { ok: true, domain: string } | { ok: false, reason: string }

/**
 * Checks a domain for a DNSLink lookup and normalises it: lower case, no
 * trailing dot, no leading `_dnslink.`. At least two labels (a bare TLD or a
 * single host name is no DNSLink domain), LDH labels of 1–63 characters
 * (underscores allowed, as DNS allows them in names), and not an IPv4
 * address (numeric top label).
 */
export function checkDomain (input: unknown): DomainCheck {
  if (typeof input !== 'string') return { ok: false, reason: 'domain must be a string' }
  let d = input.toLowerCase()
  if (d.endsWith('.')) d = d.slice(0, -1)
  if (d.startsWith(DNSLINK_PREFIX)) d = d.slice(DNSLINK_PREFIX.length)
  if (d.length === 0) return { ok: false, reason: 'domain must not be empty' }
  if (d.length > MAX_DOMAIN_CHARS) return { ok: false, reason: `domain must be at most ${MAX_DOMAIN_CHARS} characters (with _dnslink. in front it must fit 253)` }
  const labels = d.split('.')
  if (labels.length < 2) return { ok: false, reason: 'domain must have at least two labels (example.com)' }
  for (const label of labels) {
    if (!LABEL.test(label)) {
      return { ok: false, reason: `domain label ${JSON.stringify(label.slice(0, 70))} must be 1–63 letters, digits, '-' or '_', not starting or ending with '-' (an IDN goes in its xn-- form)` }
    }
  }
  if (/^[0-9]+$/.test(labels[labels.length - 1] ?? '')) return { ok: false, reason: 'domain must not be an IP address' }
  return { ok: true, domain: d }
}

/** The link a TXT record carries, or undefined when it is no valid /ipfs/ or /ipns/ DNSLink. */
export function parseDnsLinkRecord (txt: string): string | undefined {
  if (!txt.startsWith(TXT_PREFIX)) return undefined
  const value = txt.slice(TXT_PREFIX.length).trim()
  if (value.length === 0 || value.length > MAX_LINK_CHARS || !PRINTABLE_ASCII.test(value)) return undefined
  if (!value.startsWith('/ipfs/') && !value.startsWith('/ipns/')) return undefined
  try {
    checkContentPath(value)
  } catch {
    // a TXT record whose path is malformed is not a link (the lookup reports no link, not a failure)
    return undefined
  }
  return value
}

/** The link a set of TXT records selects (see the file comment), or undefined if none is valid. */
export function selectDnsLink (records: readonly string[]): string | undefined {
  let best: string | undefined
  for (const txt of records) {
    const link = parseDnsLinkRecord(txt)
    if (link !== undefined && (best === undefined || link < best)) best = link
  }
  return best
}
