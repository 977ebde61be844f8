/**
 * A real DNS server for tests: UDP on 127.0.0.1 (a free port), packets
 * encoded and decoded with dns-packet, answering from a zone the test sets.
 *
 * - a name with TXT records answers them (a record longer than 255 bytes is
 *   sent as several character-strings, as real zones do)
 * - a name set with no records exists but has no TXT (NOERROR, empty answer)
 * - any other name is NXDOMAIN
 * - `mode = 'silent'` drops every query; `'servfail'` answers SERVFAIL
 */
import { createSocket } from 'node:dgram'
import { decode, encode, AUTHORITATIVE_ANSWER, RECURSION_AVAILABLE } from 'dns-packet'
import type { Answer, DecodedPacket } from 'dns-packet'

export type DnsServerMode = 'answer' | 'silent' | 'servfail'

export interface TestDnsServer {
  readonly port: number
  /** `127.0.0.1:<port>`, for node:dns setServers / createNode({ dns: { servers } }) */
  readonly server: string
  mode: DnsServerMode
  /** every query received, in order: name (lower case, no trailing dot) and type */
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
  const socket = createSocket('udp4')

  const state: { mode: DnsServerMode } = { mode: 'answer' }

  socket.on('message', (msg, rinfo) => {
    let q: DecodedPacket
    try {
      q = decode(msg)
    } catch {
      return
    }
    const question = q.questions?.[0]
    if (question === undefined) return
    const name = norm(question.name)
    queries.push({ name, type: question.type })
    if (state.mode === 'silent') return
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
    const reply = encode({ type: 'response', id: q.id ?? 0, flags, questions: q.questions ?? [], answers })
    socket.send(reply, rinfo.port, rinfo.address)
  })

  await new Promise<void>((resolve, reject) => {
    socket.once('error', reject)
    socket.bind(0, '127.0.0.1', () => { socket.off('error', reject); resolve() })
  })
  const port = socket.address().port
  let closed: Promise<void> | undefined

  return {
    port,
    server: `127.0.0.1:${port}`,
    get mode () { return state.mode },
    set mode (m: DnsServerMode) { state.mode = m },
    queries,
    setTxt: (name, records, ttl = 60) => { zone.set(norm(name), { records: [...records], ttl }) },
    remove: name => { zone.delete(norm(name)) },
    count: name => queries.filter(q => q.name === norm(name)).length,
    close: async () => {
      closed ??= new Promise<void>(resolve => { socket.close(() => { resolve() }) })
      await closed
    }
  }
}
