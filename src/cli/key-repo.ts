/**
 * What the key and record commands share: the repo's node and the secrets it
 * needs. A passphrase never comes from a flag's value (it would show in `ps`
 * and the shell history): the keystore's from SWARMBUS_PASSPHRASE or the
 * first line of --passphrase-file, an export's from SWARMBUS_EXPORT_PASSPHRASE
 * or the first line of --export-passphrase-file.
 *
 * The node is a real one (createNode) on the in-process memory transport: it
 * opens no socket, dials nothing, and is stopped before the command returns.
 */
import { readFile, stat } from 'node:fs/promises'
import { UsageError } from './args.js'
import { errorLine } from './format.js'
import type { Parsed } from './args.js'
import type { SwarmNode } from '../index.js'

export const PASSPHRASE_ENV = 'SWARMBUS_PASSPHRASE'
export const EXPORT_PASSPHRASE_ENV = 'SWARMBUS_EXPORT_PASSPHRASE'

/** the parseArgs options of --repo and --passphrase-file */
export const REPO_OPTIONS = {
  repo: { type: 'string' },
  'passphrase-file': { type: 'string' }
} as const

/** Refuses `--passphrase X` / `--export-passphrase X` before parseArgs calls it merely unknown. */
export function refusePlainPassphrase (command: string, argv: string[]): void {
  for (const arg of argv) {
    if (arg === '--') return
    const flag = /^--((?:export-)?passphrase)(?:=|$)/.exec(arg)?.[1]
    if (flag !== undefined) {
      const env = flag === 'passphrase' ? PASSPHRASE_ENV : EXPORT_PASSPHRASE_ENV
      throw new UsageError(command, `--${flag} is not accepted: a passphrase on the command line shows in ps and the shell history; set ${env} or use --${flag}-file FILE`)
    }
  }
}

export function repoOf (command: string, values: Parsed['values']): string {
  const repo = values.repo
  if (typeof repo !== 'string' || repo === '') throw new UsageError(command, 'missing --repo DIR (the node\'s repo directory)')
  return repo
}

/** The first line of a file (without its line ending); unreadable or empty is a usage error. */
async function firstLine (command: string, flag: string, file: string): Promise<string> {
  let text: string
  try {
    text = await readFile(file, 'utf8')
  } catch (err) {
    throw new UsageError(command, `${flag}: cannot read ${file}: ${errorLine(err)}`)
  }
  const line = text.split('\n', 1)[0]?.replace(/\r$/, '') ?? ''
  if (line === '') throw new UsageError(command, `${flag}: the first line of ${file} is empty`)
  return line
}

async function secret (command: string, values: Parsed['values'], flag: string, env: string): Promise<string | undefined> {
  const file = values[flag]
  if (typeof file === 'string') return await firstLine(command, `--${flag}`, file)
  const fromEnv = process.env[env]
  if (fromEnv === undefined) return undefined
  if (fromEnv === '') throw new UsageError(command, `${env} is set but empty (unset it for a locked keystore)`)
  return fromEnv
}

/** The keystore passphrase, or undefined for a locked keystore. */
export async function keystorePassphrase (command: string, values: Parsed['values']): Promise<string | undefined> {
  return await secret(command, values, 'passphrase-file', PASSPHRASE_ENV)
}

/** The export passphrase (key export, key import): required. */
export async function exportPassphrase (command: string, values: Parsed['values']): Promise<string> {
  const p = await secret(command, values, 'export-passphrase-file', EXPORT_PASSPHRASE_ENV)
  if (p === undefined) throw new UsageError(command, `an export passphrase is needed: set ${EXPORT_PASSPHRASE_ENV} or use --export-passphrase-file FILE`)
  return p
}

/**
 * Runs `work` against the repo's node and stops the node afterwards, whatever
 * happens. createNode fails on a wrong passphrase (InvalidCommandError) or a
 * repo another process has open.
 */
export async function withNode<T> (repo: string, passphrase: string | undefined, work: (node: SwarmNode) => Promise<T>): Promise<T> {
  const { createNode } = await import('../index.js')
  const node = await createNode({
    repo,
    transport: 'memory',
    verifier: 'inline',
    ...(passphrase !== undefined ? { passphrase } : {})
  })
  try {
    return await work(node)
  } finally {
    await node.stop()
  }
}

/**
 * Reports a failed command: `swarmbus <command>: Name: message` on stderr
 * (with a hint when the keystore was locked), and the same as JSON on stdout
 * with --json. Exit code 1.
 */
export function failed (command: string, err: unknown, json: boolean, locked: boolean): number {
  const line = errorLine(err)
  if (json) process.stdout.write(JSON.stringify({ ok: false, error: line }) + '\n')
  process.stderr.write(`swarmbus ${command}: ${line}\n`)
  if (locked && err instanceof Error && (err as { field?: unknown }).field === 'passphrase' && err.message.includes('locked')) {
    process.stderr.write(`hint: the keystore is locked without a passphrase; set ${PASSPHRASE_ENV} or use --passphrase-file FILE\n`)
  }
  return 1
}

/** One line of JSON, bigints as decimal strings. */
export function jsonLine (value: unknown): string {
  return JSON.stringify(value, (_k, v: unknown) => typeof v === 'bigint' ? v.toString() : v) + '\n'
}

/**
 * The bytes of FILE, or of stdin for '-', refusing more than `max` bytes
 * (read or stat failures and oversize inputs are usage errors: exit 2).
 */
export async function readInput (command: string, file: string, max: number, what: string): Promise<Uint8Array> {
  if (file === '-') {
    const chunks: Buffer[] = []
    let size = 0
    for await (const chunk of process.stdin as AsyncIterable<Buffer>) {
      size += chunk.byteLength
      if (size > max) throw new UsageError(command, `stdin holds more than ${max} bytes: not ${what}`)
      chunks.push(chunk)
    }
    return new Uint8Array(Buffer.concat(chunks))
  }
  try {
    const s = await stat(file)
    if (!s.isFile()) throw new Error(`${file} is not a file`)
    if (s.size > max) throw new Error(`${file} is ${s.size} bytes: not ${what}`)
    return new Uint8Array(await readFile(file))
  } catch (err) {
    throw new UsageError(command, `cannot read ${file}: ${err instanceof Error && !('code' in err) ? err.message : errorLine(err)}`)
  }
}
