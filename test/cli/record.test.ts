/**
 * `swarmbus record …`: the duration parser and the inspector in process; the
 * built CLI (dist/cli/main.js) as child processes for record verify on every
 * IPNS conformance vector (the manifest's verdict for each), and for
 * create → inspect → verify against temp repos, a flipped signature byte, an
 * expired record and usage errors. Needs `npm run build` first.
 */
import { existsSync, readFileSync } from 'node:fs'
import { mkdtemp, rm, writeFile } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { UsageError } from '../../src/cli/args.js'
import { run as runRecord } from '../../src/cli/record.js'
import { formatDuration, parseDuration } from '../../src/cli/record-duration.js'
import { inspectRecord } from '../../src/cli/record-inspect.js'
import { decodeEntry } from '../../src/records/codec.js'
import { parseName } from '../../src/records/name.js'
import { VALIDATION_ERROR_CODES } from '../../src/records/errors.js'
import { CONFORMANCE_DIR } from '../records/helpers.js'
import type { ManifestEntry } from '../records/helpers.js'
import { MAIN, runCli } from '../helpers/cli-process.js'
import type { CliRun } from '../helpers/cli-process.js'
import type { ChildProcess } from 'node:child_process'

/** the vectors where the record tests find them; a copy inside the repo wins */
const IN_REPO = join(import.meta.dirname, '../fixtures/conformance/ipns')
const VECTORS = existsSync(join(IN_REPO, 'manifest.json')) ? IN_REPO : CONFORMANCE_DIR
const entries = JSON.parse(readFileSync(join(VECTORS, 'manifest.json'), 'utf8')) as ManifestEntry[]
const vector = (e: ManifestEntry): string => join(VECTORS, e.file)
const bySuffix = (suffix: string): ManifestEntry => {
  const e = entries.find(x => x.file.endsWith(suffix))
  if (e === undefined) throw new Error(`no vector ending in ${suffix}`)
  return e
}

const children = new Set<ChildProcess>()
let dir = ''

/** Runs the CLI to its end with exactly the env given (plus PATH and the network guard); SIGKILL after timeoutMs. */
function cli (args: string[], env: Record<string, string> = {}, timeoutMs = 30_000): Promise<CliRun> {
  return runCli(children, args, timeoutMs, env)
}

/** runs `fn` over `items`, at most `limit` at a time, results in order */
async function pool<T, R> (items: T[], limit: number, fn: (item: T) => Promise<R>): Promise<R[]> {
  const results: R[] = []
  let next = 0
  await Promise.all(Array.from({ length: limit }, async () => {
    while (next < items.length) {
      const i = next++
      results[i] = await fn(items[i] as T)
    }
  }))
  return results
}

beforeAll(async () => {
  if (!existsSync(MAIN)) throw new Error(`${MAIN} is missing: run 'npm run build' first`)
  dir = await mkdtemp(join(tmpdir(), 'swarmbus-record-'))
})

afterAll(async () => {
  for (const child of children) child.kill('SIGKILL')
  if (dir !== '') await rm(dir, { recursive: true, force: true })
})

describe('durations', () => {
  it('parses a number with a unit, or several, into whole milliseconds', () => {
    const cases: Array<[string, number]> = [
      ['0', 0], ['0s', 0], ['250ms', 250], ['90s', 90_000], ['5m', 300_000], ['48h', 172_800_000], ['2d', 172_800_000],
      ['1h30m', 5_400_000], ['1.5h', 5_400_000], ['.5s', 500], ['1d2h3m4s5ms', 93_784_005], ['1m1m', 120_000]
    ]
    for (const [text, ms] of cases) expect(parseDuration(text), text).toBe(ms)
  })

  it('rejects what is not a duration, saying why', () => {
    expect(() => parseDuration('5')).toThrow(/needs a unit: .* \(e\.g\. 5s\)/)
    for (const bad of ['', '5x', 'h', '-5m', '5 m', '5M', '1h-30m', '1.5.2h', 'ms', '5mss', '1e3s']) {
      expect(() => parseDuration(bad), bad).toThrow(RangeError)
    }
    expect(() => parseDuration('0.5ms')).toThrow(/not a whole number of milliseconds/)
    expect(() => parseDuration('999999999999999d')).toThrow(/too long/)
  })

  it('formats durations for people with their two largest units', () => {
    expect(formatDuration(250)).toBe('250ms')
    expect(formatDuration(1_500)).toBe('1.5s')
    expect(formatDuration(300_000)).toBe('5m')
    expect(formatDuration(90_000)).toBe('1m30s')
    expect(formatDuration(172_740_000)).toBe('1d23h')
    expect(formatDuration(86_400_000 + 300_000)).toBe('1d')
    expect(formatDuration(-5_400_000)).toBe('-1h30m')
  })
})

describe('inspectRecord (in process)', () => {
  const now = Date.now()

  it('reads every field of each valid vector as the manifest describes it, with no problem', () => {
    for (const e of entries.filter(x => x.expected === 'valid')) {
      const r = inspectRecord(new Uint8Array(readFileSync(vector(e))), now, parseName(e.name).name)
      expect(r.problems, e.file).toEqual([])
      expect(r.ok).toBe(true)
      expect(r.value).toBe(e.value)
      expect(r.sequence).toBe(BigInt(e.sequence))
      expect(r.validity).toBe(e.validity)
      expect(r.ttl).toBe(BigInt(e.ttl_ns))
      expect(r.validityType).toBe(0n)
      expect(r.keyType).toBe(e.decoded.key_type)
      expect(r.hasPubKey).toBe(e.decoded.pubkey_embedded)
      expect(r.hasV1Signature).toBe(e.decoded.protobuf_fields_present.includes('signatureV1'))
      expect(r.fields).toEqual(e.decoded.protobuf_fields_present)
      expect(r.signatureV2Length).toBeGreaterThan(0)
      expect(r.data?.map(d => d.key)).toEqual(['TTL', 'Value', 'Sequence', 'Validity', 'ValidityType'])
      expect(r.name).toBe(parseName(e.name).name.format('base36'))
    }
  })

  it('derives the IPNS name from an embedded key without --name', () => {
    const rsa = entries.find(e => e.decoded.pubkey_embedded && e.expected === 'valid')!
    const r = inspectRecord(new Uint8Array(readFileSync(vector(rsa))), now)
    expect(r.keyType).toBe('RSA')
    expect(r.keySource).toBe('pubKey')
    expect(r.name).toBe(parseName(rsa.name).name.format('base36'))
    expect(r.peerId).toBe(parseName(rsa.name).name.format('base58btc'))
    const ed = inspectRecord(new Uint8Array(readFileSync(vector(bySuffix('_v2.ipns-record')))), now)
    expect(ed.keyType).toBeUndefined()
    expect(ed.name).toBeUndefined()
  })

  it('shows what a broken record holds and lists what is wrong', () => {
    const v1 = inspectRecord(new Uint8Array(readFileSync(vector(bySuffix('_v1.ipns-record')))), now)
    expect(v1.problems.map(p => p.code)).toEqual(['missing-signature-v2', 'missing-data'])
    expect(v1.v1).toMatchObject({ value: '/ipfs/bafkqadtwgeww63tmpeqhezldn5zgi', validity: '2123-08-14T12:17:03.694052Z', sequence: 0n, ttl: 1_800_000_000_000n })
    expect(v1.hasV1Signature).toBe(true)

    const mismatch = inspectRecord(new Uint8Array(readFileSync(vector(bySuffix('_v1-v2-broken-v1-value.ipns-record')))), now)
    expect(mismatch.problems).toEqual([{ code: 'v1-v2-mismatch', message: 'the protobuf value differs from the CBOR data' }])
    expect(mismatch.value).toMatch(/^\/ipfs\//)

    const kubo = bySuffix('_kubo-record.ipns-record')
    const expired = inspectRecord(new Uint8Array(readFileSync(vector(kubo))), now)
    expect(expired.problems.map(p => p.code)).toEqual(['expired'])
    expect(expired.expired).toBe(true)
    expect(inspectRecord(new Uint8Array(readFileSync(vector(kubo))), Date.parse(kubo.validity) - 1000).ok).toBe(true)

    const junk = inspectRecord(new Uint8Array([0xff, 0xff, 0xff]), now)
    expect(junk.problems.map(p => p.code)).toEqual(['bad-protobuf'])
    expect(junk.fields).toEqual([])
  })

  it('checks an embedded key against --name', () => {
    const rsa = entries.find(e => e.decoded.pubkey_embedded && e.expected === 'valid')!
    const other = entries.find(e => !e.decoded.pubkey_embedded && e.expected === 'valid')!
    const r = inspectRecord(new Uint8Array(readFileSync(vector(rsa))), now, parseName(other.name).name)
    expect(r.problems.map(p => p.code)).toEqual(['key-mismatch'])
  })
})

describe('record create refuses a terminal', () => {
  it('is a usage error to write binary to a TTY without --out', async () => {
    const had = Object.getOwnPropertyDescriptor(process.stdout, 'isTTY')
    Object.defineProperty(process.stdout, 'isTTY', { value: true, configurable: true })
    try {
      const err = await runRecord(['create', '--value', '/ipfs/bafkqaddwgevxmmraojswg33smq', '--repo', join(dir, 'tty')]).catch((e: unknown) => e)
      expect(err).toBeInstanceOf(UsageError)
      expect((err as UsageError).message).toMatch(/refusing to write a binary record to a terminal: redirect stdout \(> FILE\) or use --out FILE/)
      expect(existsSync(join(dir, 'tty'))).toBe(false)
    } finally {
      if (had !== undefined) Object.defineProperty(process.stdout, 'isTTY', had)
      else delete (process.stdout as { isTTY?: boolean }).isTTY
    }
  })
})

describe('swarmbus record verify: the conformance vectors', () => {
  it(`gives the manifest's verdict for all ${entries.length} vectors`, async () => {
    expect(entries.length).toBeGreaterThanOrEqual(15)
    const runs = await pool(entries, 4, async e => await cli(['record', 'verify', '--name', e.name, vector(e), '--json']))
    entries.forEach((e, i) => {
      const r = runs[i] as CliRun
      const label = e.file.slice(e.file.lastIndexOf('/') + 1)
      expect(r.code, `${label}: ${r.stderr}`).toBe(e.expected === 'valid' ? 0 : 1)
      const out = JSON.parse(r.stdout) as Record<string, unknown>
      expect(out.valid, label).toBe(e.expected === 'valid')
      expect(out.name).toBe(parseName(e.name).name.format('base36'))
      if (e.expected === 'valid') {
        expect(out).toMatchObject({ value: e.value, sequence: String(e.sequence), validity: e.validity, ttl: e.ttl_ns, validityType: 0, keyType: e.decoded.key_type, hasPubKey: e.decoded.pubkey_embedded })
      } else {
        expect(VALIDATION_ERROR_CODES).toContain(out.code)
      }
    })
    // the rules the invalid ones break
    const codeOf = (suffix: string): unknown => (JSON.parse(runs[entries.indexOf(bySuffix(suffix))]?.stdout ?? '{}') as { code?: unknown }).code
    expect(codeOf('_v1.ipns-record')).toBe('missing-signature-v2')
    expect(codeOf('_v1-v2-broken-v1-value.ipns-record')).toBe('v1-v2-mismatch')
    expect(codeOf('_v1-v2-broken-signature-v2.ipns-record')).toBe('bad-signature')
    expect(codeOf('_kubo-record.ipns-record')).toBe('expired')
  })

  it('prints the verdict for people: the fields when valid, the failed rule when not', async () => {
    const valid = bySuffix('_v1-v2.ipns-record')
    const kubo = bySuffix('_kubo-record.ipns-record')
    const [ok, expired] = await Promise.all([
      cli(['record', 'verify', '--name', valid.name, vector(valid)]),
      cli(['record', 'verify', '--name', `/ipns/${parseName(kubo.name).name.format('base58btc')}`, vector(kubo)])
    ])
    expect(ok.code).toBe(0)
    expect(ok.stdout).toMatch(new RegExp(`^valid: .* is a record of ${valid.name}\n`))
    expect(ok.stdout).toMatch(new RegExp(`\n {2}value +${valid.value ?? ''}\n`))
    expect(ok.stdout).toMatch(/\n {2}TTL +30m \(1800000000000 ns\)\n/)
    expect(ok.stdout).toMatch(/\n {2}signatureV2 +verified\n$/)
    expect(expired.code).toBe(1)
    expect(expired.stdout).toBe(`invalid: expired — record expired at ${kubo.validity}\n`)
  })
})

describe('swarmbus record create → inspect → verify', () => {
  const VALUE = '/ipfs/bafkqaddwgevxmmraojswg33smq'
  let stdoutRecord = ''
  let v2Record = ''
  let expiredRecord = ''
  let name = ''
  let otherName = ''

  beforeAll(async () => {
    const repo = join(dir, 'repo')
    const other = join(dir, 'other')
    stdoutRecord = join(dir, 'a.ipns-record')
    v2Record = join(dir, 'b.ipns-record')
    expiredRecord = join(dir, 'c.ipns-record')
    // two repos at once; one repo's commands one after another (a repo is locked while open)
    const [a, c] = await Promise.all([
      cli(['record', 'create', '--value', VALUE, '--sequence', '18446744073709551615', '--ttl', '90s', '--lifetime', '2h', '--repo', repo]),
      cli(['record', 'create', '--value', VALUE, '--lifetime', '1ms', '--repo', other, '--out', expiredRecord, '--json'])
    ])
    expect(a.code, a.stderr).toBe(0)
    expect(a.stderr).toBe('')
    await writeFile(stdoutRecord, a.bytes)
    expect(c.code, c.stderr).toBe(0)
    otherName = (JSON.parse(c.stdout) as { name: string }).name

    const b = await cli(['record', 'create', '--value', `/ipns/${otherName}/docs`, '--v2-only', '--repo', repo, '--out', v2Record, '--json'])
    expect(b.code, b.stderr).toBe(0)
    const summary = JSON.parse(b.stdout) as { name: string, file: string, bytes: number, value: string, sequence: string, validity: string }
    expect(summary).toMatchObject({ file: v2Record, value: `/ipns/${otherName}/docs`, sequence: '0' })
    expect(summary.name).toMatch(/^k51/)
    name = summary.name
  })

  it('writes the raw record to stdout; inspect --json shows its fields', async () => {
    expect(decodeEntry(readFileSync(stdoutRecord)).signatureV2?.byteLength).toBe(64)
    const r = await cli(['record', 'inspect', stdoutRecord, '--json'])
    expect(r.code, r.stderr).toBe(0)
    const out = JSON.parse(r.stdout) as Record<string, unknown>
    expect(out).toMatchObject({
      ok: true,
      problems: [],
      value: VALUE,
      sequence: '18446744073709551615',
      ttl: '90000000000',
      validityType: '0',
      expired: false,
      keyType: null,
      hasPubKey: false,
      name: null,
      hasV1Signature: true,
      signatureV1Length: 64,
      signatureV2Length: 64,
      protobufFields: ['value', 'signatureV1', 'validityType', 'validity', 'sequence', 'ttl', 'signatureV2', 'data'],
      v1: { value: VALUE, sequence: '18446744073709551615', ttl: '90000000000', validityType: 0 }
    })
    const lifetime = (out.validityMs as number) - Date.now()
    expect(lifetime).toBeGreaterThan(2 * 3600_000 - 60_000)
    expect(lifetime).toBeLessThanOrEqual(2 * 3600_000)
    expect((out.data as Array<{ key: string }>).map(d => d.key)).toEqual(['TTL', 'Value', 'Sequence', 'Validity', 'ValidityType'])

    const human = await cli(['record', 'inspect', stdoutRecord, '--name', name])
    expect(human.code).toBe(0)
    expect(human.stdout).toMatch(/\nkey type +Ed25519 \(inlined in the name\)\n/)
    expect(human.stdout).toMatch(/\nTTL +1m30s \(90000000000 ns\)\n/)
    expect(human.stdout).toMatch(/\nvalidity +\S+Z \(EOL; expires in 1h59m\)\n/)
    expect(human.stdout).toMatch(/\nproblems +none found\n$/)
  })

  it('verify --name: exit 0 for both records of the name, with their fields', async () => {
    const [a, b] = await Promise.all([
      cli(['record', 'verify', '--name', name, stdoutRecord, '--json']),
      cli(['record', 'verify', '--name', name, v2Record, '--json'])
    ])
    expect(a.code, a.stdout + a.stderr).toBe(0)
    expect(JSON.parse(a.stdout)).toMatchObject({ valid: true, name, value: VALUE, sequence: '18446744073709551615', ttl: '90000000000', keyType: 'Ed25519', hasPubKey: false, hasV1Signature: true })
    expect(b.code, b.stdout + b.stderr).toBe(0)
    expect(JSON.parse(b.stdout)).toMatchObject({ valid: true, value: `/ipns/${otherName}/docs`, sequence: '0', ttl: '300000000000', hasV1Signature: false })
  })

  it('a flipped signature byte, another name, an expired record: exit 1 with the rule', async () => {
    const bytes = readFileSync(stdoutRecord)
    const sig = decodeEntry(bytes).signatureV2 as Uint8Array
    const at = bytes.indexOf(Buffer.from(sig)) + 10
    const flipped = Buffer.from(bytes)
    flipped[at] = (flipped[at] as number) ^ 0x01
    const bad = join(dir, 'flipped.ipns-record')
    await writeFile(bad, flipped)

    const [sigRun, inspectRun, otherRun, expiredRun, expiredInspect] = await Promise.all([
      cli(['record', 'verify', '--name', name, bad]),
      cli(['record', 'inspect', bad, '--json']),
      cli(['record', 'verify', '--name', otherName, stdoutRecord, '--json']),
      cli(['record', 'verify', '--name', otherName, expiredRecord]),
      cli(['record', 'inspect', expiredRecord])
    ])
    expect(sigRun.code).toBe(1)
    expect(sigRun.stdout).toBe('invalid: bad-signature — signatureV2 does not verify\n')
    // inspect does not check signatures: the flipped record still reads cleanly
    expect(inspectRun.code).toBe(0)
    expect(JSON.parse(inspectRun.stdout)).toMatchObject({ ok: true, value: VALUE })
    expect(otherRun.code).toBe(1)
    expect(JSON.parse(otherRun.stdout)).toMatchObject({ valid: false, code: 'bad-signature' })
    expect(expiredRun.code).toBe(1)
    expect(expiredRun.stdout).toMatch(/^invalid: expired — record expired at \S+Z\n$/)
    expect(expiredInspect.code).toBe(1)
    expect(expiredInspect.stdout).toMatch(/\nvalidity +\S+Z \(EOL; EXPIRED \S+ ago\)\n/)
    expect(expiredInspect.stdout).toMatch(/\nproblems +1\n {2}expired — record expired at /)
  })

  it('usage errors and unreadable files exit 2', async () => {
    const repo = join(dir, 'usage')
    const junk = join(dir, 'junk.bin')
    await writeFile(junk, Buffer.from([0xff, 0xff, 0xff]))
    const v = ['--value', VALUE, '--repo', repo]
    const cases: Array<[string[], RegExp]> = [
      [['record'], /Usage: swarmbus record <command>/],
      [['record', 'publish'], /unknown record command 'publish'/],
      [['record', 'create', '--repo', repo], /missing --value PATH/],
      [['record', 'create', '--value', '/ipfs/nope', '--repo', repo], /--value: \/ipfs\/ root is not a CID/],
      [['record', 'create', '--value', VALUE], /missing --repo DIR/],
      [['record', 'create', ...v, '--lifetime', '5'], /--lifetime: '5' needs a unit/],
      [['record', 'create', ...v, '--lifetime', '0'], /--lifetime must be above 0/],
      [['record', 'create', ...v, '--ttl', '101y'], /--ttl: '101y' is not a duration/],
      [['record', 'create', ...v, '--ttl', '36600d'], /--ttl must be 0 or more and at most a century/],
      [['record', 'create', ...v, '--sequence=-1'], /--sequence must be an integer from 0 to 2\^64-1 \(got '-1'\)\n/],
      [['record', 'create', ...v, '--sequence', '-1'], /option '--sequence' argument is ambiguous\nRun /],
      [['record', 'create', ...v, '--sequence', '18446744073709551616'], /--sequence must be an integer/],
      [['record', 'create', ...v, '--json'], /--json needs --out FILE/],
      [['record', 'create', ...v, '--passphrase=x'], /--passphrase is not accepted/],
      [['record', 'verify', junk], /missing --name NAME/],
      [['record', 'verify', '--name', 'k51nope', junk], /--name is not an IPNS name/],
      [['record', 'verify', '--name', name], /missing the record FILE/],
      [['record', 'verify', '--name', name, join(dir, 'absent')], /cannot read .*absent: .*ENOENT/],
      [['record', 'inspect'], /missing the record FILE/],
      [['record', 'inspect', dir], /cannot read .* is not a file/]
    ]
    const runs = await pool(cases, 6, async ([args]) => await cli(args))
    cases.forEach(([args, message], i) => {
      const r = runs[i] as CliRun
      expect(r.code, args.join(' ')).toBe(2)
      expect(r.stderr, args.join(' ')).toMatch(message)
    })
    expect(existsSync(repo)).toBe(false)

    // not a record at all: inspect says so (exit 1), verify names the rule
    const [inspectJunk, verifyJunk] = await Promise.all([cli(['record', 'inspect', junk]), cli(['record', 'verify', '--name', name, junk])])
    expect(inspectJunk.code).toBe(1)
    expect(inspectJunk.stdout).toMatch(/\n {2}bad-protobuf — not an IpnsEntry protobuf/)
    expect(verifyJunk.code).toBe(1)
    expect(verifyJunk.stdout).toMatch(/^invalid: bad-protobuf — /)

    const helps = await Promise.all(['create', 'inspect', 'verify'].map(async sub => await cli(['record', sub, '--help'])))
    for (const [i, sub] of ['create', 'inspect', 'verify'].entries()) {
      expect(helps[i]?.code).toBe(0)
      expect(helps[i]?.stdout).toMatch(new RegExp(`^Usage: swarmbus record ${sub}`))
    }
  })
})
