/**
 * What an ipns.resolve name points at: an IPNS name (k51…, base32 CID, peer
 * id) or a DNS domain with a DNSLink, either bare or after /ipns/, with an
 * optional path.
 */
import { parseName } from '../../records/name.js'

export type ResolveTarget =
  | { kind: 'name', name: string, path: string }
  | { kind: 'domain', domain: string, path: string }

/** at least two labels of letters, digits and hyphens; no leading or trailing hyphen in a label */
const DOMAIN = /^(?=.{1,253}$)((?!-)[a-z0-9-]{1,63}(?<!-)\.)+[a-z0-9-]{1,63}(?<!-)\.?$/i

export function isDomain (text: string): boolean {
  return DOMAIN.test(text) && !isIpnsName(text)
}

export function isIpnsName (text: string): boolean {
  try {
    parseName(text)
    return true
  } catch {
    // a predicate: not parsing is the answer
    return false
  }
}

/** Throws (the name parser's InvalidRecordError) when it is neither. */
export function parseTarget (input: string): ResolveTarget {
  const stripped = input.startsWith('/ipns/') ? input.slice('/ipns/'.length) : input
  const slash = stripped.indexOf('/')
  const head = slash === -1 ? stripped : stripped.slice(0, slash)
  const path = slash === -1 ? '' : stripped.slice(slash)
  if (isDomain(head)) return { kind: 'domain', domain: head.toLowerCase().replace(/\.$/, ''), path }
  const parsed = parseName(input)
  return { kind: 'name', name: parsed.name.format('base36'), path: parsed.path }
}
