/**
 * kubo's API security: the Origin/Referer check against cross-site requests
 * from browsers (go-ipfs-cmds' allowOrigin/allowReferer, kubo's loopback
 * defaults) and API.Authorizations (config/api.go, corehttp/commands.go).
 *
 * - An `Origin` that is not allowed: 403. A `Referer` whose scheme://host is
 *   not allowed: 403. A POST with neither, from a `User-Agent` that starts
 *   with `Mozilla` (a browser that hid both): 403.
 * - Allowed origins: the configured list (`*` allows any), else
 *   http(s)://127.0.0.1, [::1] and localhost on the server's own port.
 * - With authorizations configured: `/api/v0/version` is always allowed;
 *   otherwise the whole `Authorization` header must equal one secret
 *   (`bearer:TOKEN` → `Bearer TOKEN`, `basic:USER:PASS` → `Basic
 *   base64(USER:PASS)`, a secret with neither prefix is a bearer token) and
 *   the path must start with one of that entry's AllowedPaths; else 403.
 *   Preflights (OPTIONS) carry no credentials and are not checked.
 */
import { timingSafeEqual } from 'node:crypto'

export interface Authorization {
  AuthSecret: string
  AllowedPaths: string[]
}
export type Authorizations = Record<string, Authorization>

export const VERSION_PATH = '/api/v0/version'
export const MAX_AUTHORIZATIONS = 1_024

interface Secret { header: Buffer, paths: string[] }

/** the Authorization header a secret stands for */
export function authorizationHeader (secret: string): string {
  if (secret.startsWith('bearer:')) return `Bearer ${secret.slice('bearer:'.length)}`
  if (secret.startsWith('basic:')) return `Basic ${Buffer.from(secret.slice('basic:'.length), 'utf8').toString('base64')}`
  return `Bearer ${secret}`
}

export function compileAuthorizations (auth: Authorizations | undefined): Secret[] | undefined {
  if (auth === undefined) return undefined
  const entries = Object.entries(auth)
  if (entries.length === 0) return undefined
  if (entries.length > MAX_AUTHORIZATIONS) throw new RangeError(`at most ${MAX_AUTHORIZATIONS} API authorizations`)
  return entries.map(([name, a]) => {
    if (typeof a?.AuthSecret !== 'string' || a.AuthSecret.length === 0) throw new TypeError(`authorization '${name}' has no AuthSecret`)
    if (!Array.isArray(a.AllowedPaths) || !a.AllowedPaths.every(p => typeof p === 'string')) throw new TypeError(`authorization '${name}': AllowedPaths must be a list of paths`)
    return { header: Buffer.from(authorizationHeader(a.AuthSecret), 'utf8'), paths: [...a.AllowedPaths] }
  })
}

function sameBytes (a: Buffer, b: Buffer): boolean {
  return a.byteLength === b.byteLength && timingSafeEqual(a, b)
}

/** whether a request with this Authorization header may call this path */
export function authorized (secrets: Secret[] | undefined, path: string, header: string | undefined): boolean {
  if (secrets === undefined || path === VERSION_PATH) return true
  if (header === undefined) return false
  const given = Buffer.from(header, 'utf8')
  const entry = secrets.find(s => sameBytes(s.header, given))
  return entry !== undefined && entry.paths.some(p => path.startsWith(p))
}

export function loopbackOrigins (port: number): string[] {
  const out: string[] = []
  for (const scheme of ['http', 'https']) {
    for (const host of ['127.0.0.1', '[::1]', 'localhost']) out.push(`${scheme}://${host}:${port}`)
  }
  return out
}

export interface OriginCheck {
  method: string
  origin?: string
  referer?: string
  userAgent?: string
  /** the origins allowed for this request (configured, or the loopback ones on its port) */
  allowed: readonly string[]
}

const originAllowed = (allowed: readonly string[], origin: string): boolean =>
  allowed.includes('*') || allowed.includes(origin.toLowerCase())

/** why the request is refused as cross-site, or undefined when it may go on */
export function crossSiteRefusal (c: OriginCheck): string | undefined {
  if (c.origin !== undefined && !originAllowed(c.allowed, c.origin)) return `origin ${c.origin} is not allowed`
  if (c.referer !== undefined) {
    let from: string
    try {
      const u = new URL(c.referer)
      from = `${u.protocol}//${u.host}`
    } catch {
      return 'the Referer is not a URL'
    }
    if (!originAllowed(c.allowed, from)) return `referer ${from} is not allowed`
  }
  if (c.origin === undefined && c.referer === undefined && c.method === 'POST' && (c.userAgent ?? '').startsWith('Mozilla')) {
    return 'a browser request without Origin or Referer'
  }
  return undefined
}
