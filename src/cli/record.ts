/**
 * `swarmbus record create|inspect|verify`: IPNS records as files. create
 * signs through the repo's node (record.create on its keys actor, so the key
 * never leaves the keystore); inspect and verify need no node and read the
 * record with src/records directly, verify at the current time.
 * Exit codes: 0 done / valid, 1 the node refused, the record is invalid, or
 * inspect found problems, 2 usage error or unreadable input.
 */
import { writeFile } from 'node:fs/promises'
import { parse, UsageError } from './args.js'
import { runGroup, subcommandTable } from './command-group.js'
import type { Subcommand } from './command-group.js'
import { PASSPHRASE_ENV, REPO_OPTIONS, failed, jsonLine, keystorePassphrase, readInput, refusePlainPassphrase, repoOf, withNode } from './key-repo.js'
import { durationFlag, formatDuration } from './record-duration.js'
import { toVerified } from '../actors/verifier/verifier-actor.js'
import type { Inspection } from './record-inspect.js'
import type { IpnsName } from '../records/name.js'

export const summary = 'create, inspect and verify IPNS records (files)'

/** inspect and verify read at most this much (a record is at most 10 KiB; larger files still get 'too-large') */
const MAX_INPUT_BYTES = 1024 * 1024
/** the keys actor's bound on lifetimeMs and ttlMs (src/actors/keys/validate.ts) */
const UINT64_MAX = (1n << 64n) - 1n


const SUBS: Record<string, Subcommand> = {
  create: {
    usage: 'create --value PATH [--key NAME]',
    summary: 'sign a record with a repo key; write its bytes',
    help: `Usage: swarmbus record create --value PATH --repo DIR [options] > FILE

Signs an IPNS record with one of the repo's keys (record.create on the node's
keys actor: the key never leaves the keystore) and writes the marshalled
record, binary, to stdout or --out FILE. It will not write binary to a
terminal: redirect stdout or use --out.

Options:
  --value PATH              what the name points at: /ipfs/<cid>[/path] or
                            /ipns/<name or domain>[/path] (required)
  --key NAME                the key to sign with (default self, the node's own
                            key; any other needs the passphrase)
  --lifetime D              validity from now until the EOL (default 48h)
  --ttl D                   how long resolvers may cache it (default 5m; 0 ok)
  --sequence N              0 to 2^64-1 (default 0); higher replaces lower
  --v2-only                 leave out the legacy V1 fields and signature
  --out FILE                write the record to FILE instead of stdout
  --repo DIR                the node's repo directory (required)
  --passphrase-file FILE    the keystore passphrase is the first line of FILE
                            (default: $${PASSPHRASE_ENV})
  --json                    with --out: print a JSON summary
  -h, --help                show this help

Durations: a number and a unit (ms, s, m, h, d), or several: 250ms, 90s, 5m,
48h, 1h30m, 1.5d; lifetime above 0, both at most a century.
`,
    run: create
  },
  inspect: {
    usage: 'inspect FILE [--name NAME]',
    summary: 'print every field of a record, without validating',
    help: `Usage: swarmbus record inspect FILE [options]

Decodes a marshalled IPNS record (FILE, or - for stdin) and prints every
field: value, sequence, validity (EOL), validityType, TTL, the key type and
whether the public key is embedded, the V1 signature and signatureV2, the
fields of the DAG-CBOR data, the legacy V1 copies, and the IPNS name when the
embedded key gives it. It does not validate: a broken record shows what it
can, and the problems list what is wrong (by the record layer's codes, e.g.
bad-cbor, v1-v2-mismatch, expired). The signature is not checked: use
'swarmbus record verify --name NAME FILE'.

Exit codes: 0 no problem found, 1 problems listed, 2 unreadable input.

Options:
  --name NAME               the record's name (k51…, a peer id or /ipns/…):
                            gives the key when none is embedded, and checks an
                            embedded one against it
  --json                    print one JSON object (integers above 2^53 and
                            all uint64 fields as strings)
  -h, --help                show this help
`,
    run: inspect
  },
  verify: {
    usage: 'verify --name NAME FILE',
    summary: 'validate a record for a name, now',
    help: `Usage: swarmbus record verify --name NAME FILE [options]

Validates a marshalled IPNS record (FILE, or - for stdin) as the record of
NAME at the current time, with every rule of the IPNS spec (docs/records.md,
Validation), inline: no node is started.

Exit codes: 0 valid (its fields are printed), 1 invalid (the failed rule's
code is printed: 'invalid: expired — …'), 2 usage error or unreadable file.

Options:
  --name NAME               the name the record must belong to: k51…, bafz…,
                            a peer id (12D3Koo…, Qm…), or /ipns/… (required)
  --json                    print one JSON object (uint64 fields as strings)
  -h, --help                show this help
`,
    run: verify
  }
}


export const help = `Usage: swarmbus record <command> [options]

IPNS records as files: create one signed by a repo key, inspect what a record
holds, verify it for a name. See docs/records.md.

Commands:
${subcommandTable(SUBS)}

Examples:
  swarmbus record create --value /ipfs/bafk… --repo ./data > rec.ipns-record
  swarmbus record inspect rec.ipns-record
  swarmbus record verify --name k51… rec.ipns-record

Run 'swarmbus record <command> --help' for its options.
`

export async function run (argv: string[]): Promise<number> {
  return await runGroup('record', help, SUBS, argv)
}


async function parseNameFlag (command: string, raw: unknown): Promise<IpnsName> {
  const { parseName } = await import('../records/name.js')
  try {
    return parseName(String(raw)).name
  } catch (err) {
    throw new UsageError(command, `--name is not an IPNS name: ${(err as Error).message}`)
  }
}

function ttlText (ttl: bigint): string {
  return `${formatDuration(Number(ttl / 1_000_000n))} (${ttl} ns)`
}

function validityText (validity: string, validityMs: number | undefined, now: number): string {
  if (validityMs === undefined) return validity
  const left = validityMs - now
  return `${validity} (EOL; ${left >= 0 ? `expires in ${formatDuration(left)}` : `EXPIRED ${formatDuration(-left)} ago`})`
}

function rows (pairs: Array<[string, string]>): string {
  const w = Math.max(...pairs.map(([k]) => k.length))
  return pairs.map(([k, v]) => `${k.padEnd(w)}  ${v}`).join('\n') + '\n'
}

async function create (argv: string[]): Promise<number> {
  const command = 'record create'
  refusePlainPassphrase(command, argv)
  const { values } = parse(command, argv, {
    ...REPO_OPTIONS,
    key: { type: 'string' },
    value: { type: 'string' },
    lifetime: { type: 'string' },
    ttl: { type: 'string' },
    sequence: { type: 'string' },
    'v2-only': { type: 'boolean' },
    out: { type: 'string' },
    json: { type: 'boolean' }
  })
  if (values.help === true) {
    process.stdout.write(SUBS.create?.help ?? help)
    return 0
  }
  const value = values.value
  if (typeof value !== 'string') throw new UsageError(command, 'missing --value PATH (/ipfs/<cid>… or /ipns/<name>…)')
  const { checkContentPath } = await import('../records/value.js')
  try {
    checkContentPath(value)
  } catch (err) {
    throw new UsageError(command, `--value: ${(err as Error).message}`)
  }
  const repo = repoOf(command, values)
  const key = typeof values.key === 'string' ? values.key : undefined
  const lifetimeMs = durationFlag(command, values, 'lifetime', 1)
  const ttlMs = durationFlag(command, values, 'ttl', 0)
  let sequence: bigint | undefined
  if (values.sequence !== undefined) {
    const s = String(values.sequence)
    if (!/^\d{1,20}$/.test(s) || BigInt(s) > UINT64_MAX) throw new UsageError(command, `--sequence must be an integer from 0 to 2^64-1 (got '${s}')`)
    sequence = BigInt(s)
  }
  const out = typeof values.out === 'string' ? values.out : undefined
  const json = values.json === true
  if (out === undefined && process.stdout.isTTY === true) {
    throw new UsageError(command, 'refusing to write a binary record to a terminal: redirect stdout (> FILE) or use --out FILE')
  }
  if (json && out === undefined) throw new UsageError(command, '--json needs --out FILE (without it the record itself is the output)')
  const passphrase = await keystorePassphrase(command, values)

  let created
  try {
    created = await withNode(repo, passphrase, async node => await node.ask({
      type: 'record.create',
      value,
      ...(key !== undefined ? { key } : {}),
      ...(sequence !== undefined ? { sequence } : {}),
      ...(lifetimeMs !== undefined ? { lifetimeMs } : {}),
      ...(ttlMs !== undefined ? { ttlMs } : {}),
      ...(values['v2-only'] === true ? { v2Only: true } : {})
    }))
  } catch (err) {
    return failed(command, err, json, passphrase === undefined)
  }
  try {
    if (out !== undefined) await writeFile(out, created.record)
    else await new Promise<void>((resolve, reject) => { process.stdout.write(created.record, err => { if (err) reject(err); else resolve() }) })
  } catch (err) {
    return failed(command, err, json, false)
  }
  if (out !== undefined) {
    const summary = { name: created.name, file: out, bytes: created.record.byteLength, value: created.value, sequence: created.sequence, validity: created.validity }
    process.stdout.write(json
      ? jsonLine(summary)
      : `wrote a record for ${created.name} to ${out} (${created.record.byteLength} bytes)\n` +
        rows([['value', created.value], ['sequence', String(created.sequence)], ['validity', validityText(created.validity, Date.parse(created.validity), Date.now())]]).replace(/^(?=.)/gm, '  '))
  }
  return 0
}

async function readRecord (command: string, file: string): Promise<Uint8Array> {
  return await readInput(command, file, MAX_INPUT_BYTES, 'an IPNS record')
}

function renderInspection (file: string, r: Inspection, now: number): string {
  const pairs: Array<[string, string]> = [['file', `${file} (${r.size} bytes)`]]
  const unknown = r.dataLength === 0 ? '(no data)' : '(unreadable)'
  if (r.fields.length > 0 || r.problems.every(p => p.code !== 'bad-protobuf')) {
    pairs.push(['value', r.value ?? unknown])
    pairs.push(['sequence', r.sequence !== undefined ? String(r.sequence) : unknown])
    pairs.push(['validity', r.validity !== undefined ? validityText(r.validity, r.validityMs, now) : unknown])
    pairs.push(['validityType', r.validityType !== undefined ? `${r.validityType}${r.validityType === 0n ? ' (EOL)' : ' (unknown)'}` : unknown])
    pairs.push(['TTL', r.ttl !== undefined ? ttlText(r.ttl) : unknown])
    pairs.push(['key type', r.keyType !== undefined
      ? `${r.keyType} (${r.keySource === 'pubKey' ? 'from the embedded pubKey' : 'inlined in the name'})`
      : r.hasPubKey ? unknown : 'not embedded: inlined in the name (give --name to read it)'])
    pairs.push(['pubKey', r.hasPubKey ? `embedded (${r.pubKeyLength ?? 0} bytes)` : 'not embedded'])
    pairs.push(['IPNS name', r.name ?? '(not derivable: no embedded key; give --name)'])
    if (r.peerId !== undefined) pairs.push(['peer id', r.peerId])
    pairs.push(['signatureV1', r.hasV1Signature ? `present (${r.signatureV1Length ?? 0} bytes; legacy, never checked)` : 'absent'])
    pairs.push(['signatureV2', r.signatureV2Length > 0 ? `${r.signatureV2Length} bytes (not checked here: record verify --name)` : 'absent'])
    pairs.push(['data', r.dataLength > 0 ? `${r.dataLength} bytes of DAG-CBOR${r.data !== undefined ? `: ${r.data.map(d => d.key).join(', ')}` : ''}` : 'absent'])
    for (const d of r.data ?? []) pairs.push([`  ${d.key}`, shownText(d.value)])
    pairs.push(['protobuf', r.fields.join(', ')])
    if (r.v1 !== undefined) {
      for (const [k, v] of Object.entries(r.v1)) pairs.push([`  ${k}`, String(v)])
    }
  }
  pairs.push(['problems', r.problems.length === 0 ? 'none found' : String(r.problems.length)])
  return rows(pairs) + r.problems.map(p => `  ${p.code} — ${p.message}\n`).join('')
}

function shownText (v: unknown): string {
  if (v !== null && typeof v === 'object' && 'bytes' in v) {
    const b = v as { bytes: number, text?: string, hex?: string }
    return b.text !== undefined ? `${JSON.stringify(b.text)} (${b.bytes} bytes)` : `0x${b.hex ?? ''} (${b.bytes} bytes)`
  }
  return typeof v === 'bigint' ? v.toString() : JSON.stringify(v, (_k, x: unknown) => typeof x === 'bigint' ? x.toString() : x)
}

/** The inspection as JSON: the fields first, null for what could not be read. */
function inspectionJson (file: string, r: Inspection): Record<string, unknown> {
  return {
    file,
    size: r.size,
    ok: r.ok,
    problems: r.problems,
    value: r.value ?? null,
    sequence: r.sequence ?? null,
    validity: r.validity ?? null,
    validityMs: r.validityMs ?? null,
    expired: r.expired ?? null,
    validityType: r.validityType ?? null,
    ttl: r.ttl ?? null,
    keyType: r.keyType ?? null,
    keySource: r.keySource ?? null,
    hasPubKey: r.hasPubKey,
    pubKeyLength: r.pubKeyLength ?? 0,
    name: r.name ?? null,
    peerId: r.peerId ?? null,
    hasV1Signature: r.hasV1Signature,
    signatureV1Length: r.signatureV1Length ?? 0,
    signatureV2Length: r.signatureV2Length,
    dataLength: r.dataLength,
    data: r.data ?? null,
    protobufFields: r.fields,
    v1: r.v1 ?? null
  }
}

async function inspect (argv: string[]): Promise<number> {
  const command = 'record inspect'
  const { values, positionals } = parse(command, argv, { name: { type: 'string' }, json: { type: 'boolean' } }, 1)
  if (values.help === true) {
    process.stdout.write(SUBS.inspect?.help ?? help)
    return 0
  }
  const file = positionals[0]
  if (file === undefined) throw new UsageError(command, 'missing the record FILE (or - for stdin)')
  const name = values.name !== undefined ? await parseNameFlag(command, values.name) : undefined
  const bytes = await readRecord(command, file)
  const { inspectRecord } = await import('./record-inspect.js')
  const now = Date.now()
  const r = inspectRecord(bytes, now, name)
  process.stdout.write(values.json === true ? jsonLine(inspectionJson(file, r)) : renderInspection(file, r, now))
  return r.ok ? 0 : 1
}

async function verify (argv: string[]): Promise<number> {
  const command = 'record verify'
  const { values, positionals } = parse(command, argv, { name: { type: 'string' }, json: { type: 'boolean' } }, 1)
  if (values.help === true) {
    process.stdout.write(SUBS.verify?.help ?? help)
    return 0
  }
  if (values.name === undefined) throw new UsageError(command, 'missing --name NAME (the name the record must belong to)')
  const file = positionals[0]
  if (file === undefined) throw new UsageError(command, 'missing the record FILE (or - for stdin)')
  const name = await parseNameFlag(command, values.name)
  const json = values.json === true
  const bytes = await readRecord(command, file)
  const { checkRecord } = await import('../records/validate.js')
  const now = Date.now()
  const result = checkRecord(name, bytes, now)
  const ipnsName = name.format('base36')
  if (!result.ok) {
    const { code, message } = result.error
    process.stdout.write(json ? jsonLine({ valid: false, file, name: ipnsName, code, message }) : `invalid: ${code} — ${message}\n`)
    return 1
  }
  const f = result.fields
  if (json) {
    process.stdout.write(jsonLine({
      valid: true,
      file,
      name: ipnsName,
      // the same fields record.verify answers with
      ...toVerified(f)
    }))
    return 0
  }
  process.stdout.write(`valid: ${file} is a record of ${ipnsName}\n` + rows([
    ['value', f.value],
    ['sequence', String(f.sequence)],
    ['validity', validityText(f.validity, f.validityMs, now)],
    ['validityType', '0 (EOL)'],
    ['TTL', ttlText(f.ttl)],
    ['key type', `${f.keyType} (${f.hasPubKey ? 'from the embedded pubKey' : 'inlined in the name'})`],
    ['signatureV1', f.hasV1Signature ? 'present (legacy, never checked)' : 'absent'],
    ['signatureV2', 'verified']
  ]).replace(/^(?=.)/gm, '  '))
  return 0
}
