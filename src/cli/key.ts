/**
 * `swarmbus key gen|list|rename|rm|export|import`: the named keys of a repo,
 * through the key.* commands of a node opened on it (see docs/keys.md).
 * Exit codes: 0 done, 1 the node refused (typed error: wrong passphrase,
 * locked keystore, unknown or existing name, …), 2 usage error or unreadable
 * input.
 */
import { open } from 'node:fs/promises'
import { parse, UsageError } from './args.js'
import { runGroup, subcommandTable } from './command-group.js'
import type { Subcommand } from './command-group.js'
import { table } from './format.js'
import {
  EXPORT_PASSPHRASE_ENV, PASSPHRASE_ENV, REPO_OPTIONS, exportPassphrase, failed, jsonLine, keystorePassphrase, readInput,
  refusePlainPassphrase, repoOf, withNode
} from './key-repo.js'
import type { KeyInfo, KeyType } from '../index.js'
import { KEY_TYPES, MAX_EXPORT_CHARS as MAX_EXPORT_BYTES, RSA_BITS } from '../actors/keys/key-rules.js'

export const summary = 'manage a repo\'s named keys: gen, list, rename, rm, export, import'


const COMMON = `  --repo DIR                the node's repo directory (required)
  --passphrase-file FILE    the keystore passphrase is the first line of FILE
                            (default: $${PASSPHRASE_ENV}; without either the
                            keystore is locked)
`
const EXPORT_SECRET = `  --export-passphrase-file FILE
                            the export passphrase is the first line of FILE
                            (default: $${EXPORT_PASSPHRASE_ENV})
`
const TAIL = `  --json                    print JSON
  -h, --help                show this help
`


const SUBS: Record<string, Subcommand> = {
  gen: {
    usage: 'gen NAME [--type T] [--bits N]',
    summary: 'generate a key and store it sealed',
    help: `Usage: swarmbus key gen NAME --repo DIR [options]

Generates a private key named NAME in the repo's keystore (sealed with the
keystore passphrase) and prints its name, type, peer id and IPNS name (k51…).
Needs the passphrase.

Options:
  --type T                  Ed25519 (default), RSA, secp256k1 or ECDSA
  --bits N                  RSA only: 2048 (default), 3072 or 4096
${COMMON}${TAIL}`,
    run: gen
  },
  list: {
    usage: 'list',
    summary: 'list the keys (works without the passphrase)',
    help: `Usage: swarmbus key list --repo DIR [options]

Lists the repo's keys: 'self' (the node's own key) first, then the named keys
by name, with type, peer id and IPNS name. Names are stored in clear, so this
works on a locked keystore (no passphrase); a wrong passphrase still fails.

Options:
${COMMON}${TAIL}`,
    run: list
  },
  rename: {
    usage: 'rename OLD NEW',
    summary: 'rename a key',
    help: `Usage: swarmbus key rename OLD NEW --repo DIR [options]

Renames a key (re-sealed under its new name, in one write). 'self' cannot be
renamed, and NEW must not exist. Needs the passphrase.

Options:
${COMMON}${TAIL}`,
    run: rename
  },
  rm: {
    usage: 'rm NAME',
    summary: 'remove a key',
    help: `Usage: swarmbus key rm NAME --repo DIR [options]

Removes a key for good (there is no undo: export it first to keep a copy).
'self' cannot be removed. A locked keystore can remove keys too.

Options:
${COMMON}${TAIL}`,
    run: rm
  },
  export: {
    usage: 'export NAME [--out FILE]',
    summary: 'write a key as an encrypted export document',
    help: `Usage: swarmbus key export NAME --repo DIR [options]

Writes the key as an export document: JSON holding the private key sealed
(scrypt + AES-256-GCM) with the export passphrase, not the keystore's; the
format is in docs/keys.md. Written to FILE (created with mode 0600) or stdout.
Needs the keystore passphrase for every key but 'self', and an export
passphrase.

Options:
  --out FILE                write the document to FILE instead of stdout
${EXPORT_SECRET}${COMMON}  --json                    with --out: print a JSON summary
  -h, --help                show this help
`,
    run: exportKey
  },
  import: {
    usage: 'import NAME FILE',
    summary: 'add a key from an export document',
    help: `Usage: swarmbus key import NAME FILE --repo DIR [options]

Adds the key in an export document (FILE, or - for stdin) under the name NAME,
sealed with this keystore's passphrase. Needs the keystore passphrase and the
export passphrase the document was written with.

Options:
${EXPORT_SECRET}${COMMON}${TAIL}`,
    run: importKey
  }
}


export const help = `Usage: swarmbus key <command> [arguments] [options]

The named keys of a node's repo, sealed at rest with the keystore passphrase;
'self' is the node's own key (its peer id). Each command opens the repo's node
(no network), asks it, and stops it. See docs/keys.md.

Commands:
${subcommandTable(SUBS)}

The keystore passphrase comes from $${PASSPHRASE_ENV} or the first line of
--passphrase-file FILE, never from a flag's value. Without it the keystore is
locked: list works (and 'self' can be exported); gen, rename, rm, import
and the other keys' exports fail.

Examples:
  SWARMBUS_PASSPHRASE=… swarmbus key gen blog --repo ./data
  swarmbus key list --repo ./data --json
  swarmbus key export blog --repo ./data --out blog.key

Run 'swarmbus key <command> --help' for its options.
`

export async function run (argv: string[]): Promise<number> {
  return await runGroup('key', help, SUBS, argv)
}

/** parse + --help + the checks every key command makes */
function start (sub: string, argv: string[], options: Parameters<typeof parse>[2], positionals: number): ReturnType<typeof parse> | undefined {
  const command = `key ${sub}`
  refusePlainPassphrase(command, argv)
  const parsed = parse(command, argv, { ...REPO_OPTIONS, json: { type: 'boolean' }, ...options }, positionals)
  if (parsed.values.help === true) {
    process.stdout.write(SUBS[sub]?.help ?? help)
    return undefined
  }
  return parsed
}

function positional (command: string, parsed: ReturnType<typeof parse>, i: number, what: string): string {
  const v = parsed.positionals[i]
  if (v === undefined) throw new UsageError(command, `missing ${what}`)
  return v
}

function block (info: KeyInfo): string {
  return [
    `name       ${info.name}`,
    `type       ${info.type}`,
    `peer id    ${info.peerId}`,
    `IPNS name  ${info.ipnsName}`
  ].join('\n') + '\n'
}

async function gen (argv: string[]): Promise<number> {
  const command = 'key gen'
  const p = start('gen', argv, { type: { type: 'string' }, bits: { type: 'string' } }, 1)
  if (p === undefined) return 0
  const name = positional(command, p, 0, 'the key NAME')
  const repo = repoOf(command, p.values)
  const rawType = p.values.type
  let keyType: KeyType = 'Ed25519'
  if (rawType !== undefined) {
    const found = KEY_TYPES.find(t => t.toLowerCase() === String(rawType).toLowerCase())
    if (found === undefined) throw new UsageError(command, `--type must be one of ${KEY_TYPES.join(', ')} (got '${String(rawType)}')`)
    keyType = found
  }
  let bits: number | undefined
  if (p.values.bits !== undefined) {
    if (keyType !== 'RSA') throw new UsageError(command, `--bits is for RSA keys only (--type RSA), not ${keyType}`)
    bits = Number(p.values.bits)
    if (!RSA_BITS.includes(bits)) throw new UsageError(command, `--bits must be one of ${RSA_BITS.join(', ')} (got '${String(p.values.bits)}')`)
  }
  const json = p.values.json === true
  const passphrase = await keystorePassphrase(command, p.values)
  try {
    const info = await withNode(repo, passphrase, async node => await node.ask({ type: 'key.generate', name, keyType, ...(bits !== undefined ? { bits } : {}) }))
    process.stdout.write(json ? jsonLine(info) : block(info))
    return 0
  } catch (err) {
    return failed(command, err, json, passphrase === undefined)
  }
}

async function list (argv: string[]): Promise<number> {
  const command = 'key list'
  const p = start('list', argv, {}, 0)
  if (p === undefined) return 0
  const repo = repoOf(command, p.values)
  const json = p.values.json === true
  const passphrase = await keystorePassphrase(command, p.values)
  try {
    const { keys } = await withNode(repo, passphrase, async node => await node.ask({ type: 'key.list' }))
    if (json) {
      process.stdout.write(jsonLine({ keys }))
    } else {
      process.stdout.write(table(
        [{ title: 'name' }, { title: 'type' }, { title: 'peer id' }, { title: 'IPNS name' }],
        keys.map(k => [k.name, k.type, k.peerId, k.ipnsName])
      ) + '\n')
    }
    return 0
  } catch (err) {
    return failed(command, err, json, passphrase === undefined)
  }
}

async function rename (argv: string[]): Promise<number> {
  const command = 'key rename'
  const p = start('rename', argv, {}, 2)
  if (p === undefined) return 0
  const from = positional(command, p, 0, 'the OLD and NEW names')
  const to = positional(command, p, 1, 'the NEW name')
  const repo = repoOf(command, p.values)
  const json = p.values.json === true
  const passphrase = await keystorePassphrase(command, p.values)
  try {
    const info = await withNode(repo, passphrase, async node => await node.ask({ type: 'key.rename', from, to }))
    process.stdout.write(json ? jsonLine({ from, ...info }) : `renamed '${from}' to '${to}'\n${block(info)}`)
    return 0
  } catch (err) {
    return failed(command, err, json, passphrase === undefined)
  }
}

async function rm (argv: string[]): Promise<number> {
  const command = 'key rm'
  const p = start('rm', argv, {}, 1)
  if (p === undefined) return 0
  const name = positional(command, p, 0, 'the key NAME')
  const repo = repoOf(command, p.values)
  const json = p.values.json === true
  const passphrase = await keystorePassphrase(command, p.values)
  try {
    const info = await withNode(repo, passphrase, async node => await node.ask({ type: 'key.remove', name }))
    process.stdout.write(json ? jsonLine(info) : `removed '${info.name}' (${info.type}, peer id ${info.peerId})\n`)
    return 0
  } catch (err) {
    return failed(command, err, json, passphrase === undefined)
  }
}

async function exportKey (argv: string[]): Promise<number> {
  const command = 'key export'
  const p = start('export', argv, { out: { type: 'string' }, 'export-passphrase-file': { type: 'string' } }, 1)
  if (p === undefined) return 0
  const name = positional(command, p, 0, 'the key NAME')
  const repo = repoOf(command, p.values)
  const out = typeof p.values.out === 'string' ? p.values.out : undefined
  const json = p.values.json === true
  if (json && out === undefined) throw new UsageError(command, '--json needs --out FILE (without it the document itself is the output)')
  const exportSecret = await exportPassphrase(command, p.values)
  const passphrase = await keystorePassphrase(command, p.values)
  let data: string
  try {
    data = (await withNode(repo, passphrase, async node => await node.ask({ type: 'key.export', name, passphrase: exportSecret }))).data
  } catch (err) {
    return failed(command, err, json, passphrase === undefined)
  }
  if (out === undefined) {
    process.stdout.write(data + '\n')
    return 0
  }
  try {
    // 0600 whether the file is new or not (open's mode only applies to a new file)
    const fh = await open(out, 'w', 0o600)
    try {
      await fh.chmod(0o600)
      await fh.writeFile(data + '\n')
    } finally {
      await fh.close()
    }
  } catch (err) {
    return failed(command, err, json, false)
  }
  const doc = JSON.parse(data) as { keyType?: string, peerId?: string }
  process.stdout.write(json
    ? jsonLine({ name, keyType: doc.keyType, peerId: doc.peerId, file: out })
    : `wrote key '${name}' (${doc.keyType ?? '?'}, peer id ${doc.peerId ?? '?'}) to ${out}, encrypted with the export passphrase\n`)
  return 0
}

async function importKey (argv: string[]): Promise<number> {
  const command = 'key import'
  const p = start('import', argv, { 'export-passphrase-file': { type: 'string' } }, 2)
  if (p === undefined) return 0
  const name = positional(command, p, 0, 'the key NAME and the export FILE')
  const file = positional(command, p, 1, 'the export FILE (or - for stdin)')
  const repo = repoOf(command, p.values)
  const json = p.values.json === true
  const exportSecret = await exportPassphrase(command, p.values)
  const passphrase = await keystorePassphrase(command, p.values)
  const data = new TextDecoder().decode(await readInput(command, file, MAX_EXPORT_BYTES, 'a key export document')).trim()
  try {
    const info = await withNode(repo, passphrase, async node => await node.ask({ type: 'key.import', name, data, passphrase: exportSecret }))
    process.stdout.write(json ? jsonLine(info) : `imported key '${info.name}'\n${block(info)}`)
    return 0
  } catch (err) {
    return failed(command, err, json, passphrase === undefined)
  }
}
