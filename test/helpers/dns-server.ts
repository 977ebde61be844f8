/**
 * A real DNS server for tests: UDP on 127.0.0.1 (a free port) and TCP on the
 * same port (RFC 7766 framing), and DNS-over-HTTPS (RFC 8484 GET and POST, plain HTTP on another free port of
 * 127.0.0.1), packets encoded and decoded with dns-packet, both answering
 * from one zone the test sets, with the TTL it sets.
 *
 * - a name with TXT records answers them (a record longer than 255 bytes is
 *   sent as several character-strings, as real zones do)
 * - a name set with no records exists but has no TXT (NOERROR, empty answer)
 * - any other name is NXDOMAIN
 * - `mode = 'silent'` drops every query; `'servfail'` answers SERVFAIL
 * - `truncateUdp = true`: UDP answers are empty with TC set (ask over TCP)
 */
import { createSocket } from 'node:dgram'
import { createServer } from 'node:http'
import { createServer as createTcpServer } from 'node:net'
import type { AddressInfo, Socket } from 'node:net'
import { decode, encode, AUTHORITATIVE_ANSWER, RECURSION_AVAILABLE, TRUNCATED_RESPONSE } from 'dns-packet'
import type { Answer, DecodedPacket } from 'dns-packet'

export type DnsServerMode = 'answer' | 'silent' | 'servfail'

export interface TestDnsServer {
  readonly port: number
  /** `127.0.0.1:<port>`, for node:dns setServers / createNode({ dns: { servers } }) */
  readonly server: string
  /** `http://127.0.0.1:<port>/dns-query`: the same zone over DNS-over-HTTPS (RFC 8484) */
  readonly doh: string
  mode: DnsServerMode
  /** answer UDP queries with an empty, truncated (TC) response */
  truncateUdp: boolean
  /** every query received (UDP, TCP and DoH), in order: name (lower case, no trailing dot) and type */
  readonly queries: Array<{ name: string, type: string }>
  /** TXT records of a name (replacing any), with a TTL in seconds (default 60) */
  setTxt(name: string, records: string[], ttl?: number): void
  /** remove a name: NXDOMAIN from now on */
  remove(name: string): void
  /** queries of a name so far */
  count(name: string): number
  close(): Promise<void>
}

const RCODE_SERVFAIL = 2
const RCODE_NXDOMAIN = 3

const norm = (name: string): string => name.toLowerCase().replace(/\.$/, '')

function chunks (record: string): Buffer[] {
  const bytes = Buffer.from(record, 'utf8')
  const out: Buffer[] = []
  for (let i = 0; i < bytes.length; i += 255) out.push(bytes.subarray(i, i + 255))
  return out.length > 0 ? out : [Buffer.alloc(0)]
}

export async function startDnsServer (): Promise<TestDnsServer> {
  const zone = new Map<string, { records: string[], ttl: number }>()
  const queries: Array<{ name: string, type: string }> = []
  let socket = createSocket('udp4')

  const state: { mode: DnsServerMode, truncateUdp: boolean } = { mode: 'answer', truncateUdp: false }

  /** the reply to a query packet, or undefined when there is none to send (silent, undecodable) */
  const answer = (msg: Buffer, udp = false): Buffer | undefined => {
    let q: DecodedPacket
    try {
      q = decode(msg)
    } catch {
      return undefined
    }
    const question = q.questions?.[0]
    if (question === undefined) return undefined
    const name = norm(question.name)
    queries.push({ name, type: question.type })
    if (state.mode === 'silent') return undefined
    let flags = AUTHORITATIVE_ANSWER | RECURSION_AVAILABLE | ((q.flags ?? 0) & 0x0100)
    const answers: Answer[] = []
    if (state.mode === 'servfail') {
      flags |= RCODE_SERVFAIL
    } else {
      const entry = zone.get(name)
      if (entry === undefined) {
        flags |= RCODE_NXDOMAIN
      } else if (question.type === 'TXT') {
        for (const r of entry.records) answers.push({ type: 'TXT', class: 'IN', name: question.name, ttl: entry.ttl, data: chunks(r) })
      }
    }
    if (udp && state.truncateUdp) return encode({ type: 'response', id: q.id ?? 0, flags: flags | TRUNCATED_RESPONSE, questions: q.questions ?? [], answers: [] })
    return encode({ type: 'response', id: q.id ?? 0, flags, questions: q.questions ?? [], answers })
  }

  const serveUdp = (udp: typeof socket): void => {
    udp.on('message', (msg, rinfo) => {
      const reply = answer(msg, true)
      if (reply !== undefined) udp.send(reply, rinfo.port, rinfo.address)
    })
  }

  // DNS-over-HTTPS: GET /dns-query?dns=<base64url> or POST /dns-query with the packet
  const http = createServer((req, res) => {
    const url = new URL(req.url ?? '/', 'http://127.0.0.1')
    const reply = (packet: Buffer): void => {
      const out = answer(packet)
      // silent: never answer (the client's signal ends the request)
      if (out === undefined) return
      res.writeHead(200, { 'content-type': 'application/dns-message', 'content-length': out.byteLength })
      res.end(out)
    }
    if (url.pathname !== '/dns-query') {
      res.writeHead(404).end()
    } else if (req.method === 'GET') {
      reply(Buffer.from(url.searchParams.get('dns') ?? '', 'base64url'))
    } else if (req.method === 'POST') {
      const parts: Buffer[] = []
      req.on('data', (b: Buffer) => parts.push(b))
      req.on('end', () => { reply(Buffer.concat(parts)) })
    } else {
      res.writeHead(405).end()
    }
  })
  await new Promise<void>((resolve, reject) => {
    http.once('error', reject)
    http.listen(0, '127.0.0.1', () => { http.off('error', reject); resolve() })
  })
  const httpPort = (http.address() as AddressInfo).port

  // TCP on the same port as UDP: two-byte length, then the message
  const tcpSockets = new Set<Socket>()
  const tcp = createTcpServer(conn => {
    tcpSockets.add(conn)
    conn.on('close', () => { tcpSockets.delete(conn) })
    conn.on('error', () => { conn.destroy() })
    let buffered = Buffer.alloc(0)
    conn.on('data', (chunk: Buffer) => {
      buffered = Buffer.concat([buffered, chunk])
      while (buffered.length >= 2 && buffered.length >= 2 + buffered.readUInt16BE(0)) {
        const msg = buffered.subarray(2, 2 + buffered.readUInt16BE(0))
        buffered = buffered.subarray(2 + msg.length)
        const reply = answer(msg)
        if (reply === undefined) continue
        const length = Buffer.alloc(2)
        length.writeUInt16BE(reply.length)
        conn.write(Buffer.concat([length, reply]))
      }
    })
  })
  // a free UDP port, then TCP on it; when TCP finds it taken, another UDP port
  let port = 0
  for (let attempt = 0; ; attempt++) {
    serveUdp(socket)
    await new Promise<void>((resolve, reject) => {
      socket.once('error', reject)
      socket.bind(0, '127.0.0.1', () => { socket.off('error', reject); resolve() })
    })
    port = socket.address().port
    const listening = await new Promise<boolean>((resolve, reject) => {
      tcp.once('error', (err: NodeJS.ErrnoException) => { if (err.code === 'EADDRINUSE' && attempt < 20) resolve(false); else reject(err) })
      tcp.listen(port, '127.0.0.1', () => { tcp.removeAllListeners('error'); resolve(true) })
    })
    if (listening) break
    tcp.removeAllListeners('error')
    await new Promise<void>(resolve => socket.close(() => { resolve() }))
    socket = createSocket('udp4')
  }
  let closed: Promise<void> | undefined

  return {
    port,
    server: `127.0.0.1:${port}`,
    doh: `http://127.0.0.1:${httpPort}/dns-query`,
    get mode () { return state.mode },
    set mode (m: DnsServerMode) { state.mode = m },
    get truncateUdp () { return state.truncateUdp },
    set truncateUdp (t: boolean) { state.truncateUdp = t },
    queries,
    setTxt: (name, records, ttl = 60) => { zone.set(norm(name), { records: [...records], ttl }) },
    remove: name => { zone.delete(norm(name)) },
    count: name => queries.filter(q => q.name === norm(name)).length,
    close: async () => {
      closed ??= Promise.all([
        new Promise<void>(resolve => { socket.close(() => { resolve() }) }),
        new Promise<void>(resolve => { for (const c of tcpSockets) c.destroy(); tcp.close(() => { resolve() }) }),
        new Promise<void>(resolve => { http.closeAllConnections(); http.close(() => { resolve() }) })
      ]).then(() => {})
      await closed
    }
  }
}
