/**
 * Argument parsing shared by the commands: node:util parseArgs in strict
 * mode, with its errors (unknown flag, missing value, stray positional)
 * turned into a UsageError that main prints with a pointer to --help and
 * exit code 2.
 */
import { parseArgs } from 'node:util'
import type { ParseArgsConfig } from 'node:util'

/** A mistake in how the CLI was called: printed on stderr, exit code 2. */
export class UsageError extends Error {
  override readonly name = 'UsageError'
  /** the command whose --help to point at ('' for the global one) */
  readonly command: string
  constructor (command: string, message: string) {
    super(message)
    this.command = command
  }
}

type Options = NonNullable<ParseArgsConfig['options']>

export interface Parsed {
  values: Record<string, string | boolean | undefined>
  positionals: string[]
}

/** Parse argv strictly; `help` (-h/--help) is always accepted. */
export function parse (command: string, argv: string[], options: Options, positionals = 0): Parsed {
  let result
  try {
    result = parseArgs({
      args: argv,
      options: { ...options, help: { type: 'boolean', short: 'h' } },
      strict: true,
      allowPositionals: true
    })
  } catch (err) {
    throw new UsageError(command, parseErrorMessage(err))
  }
  const values = result.values as Record<string, string | boolean | undefined>
  if (values.help !== true && result.positionals.length > positionals) {
    const extra = result.positionals.slice(positionals)
    throw new UsageError(command, `unexpected argument${extra.length > 1 ? 's' : ''}: ${extra.map(a => `'${a}'`).join(' ')}`)
  }
  return { values, positionals: result.positionals }
}

function parseErrorMessage (err: unknown): string {
  if (!(err instanceof Error)) return String(err)
  // parseArgs messages are long and mention internals ("To specify a positional
  // argument starting with a '-' ..."): keep the first sentence
  const code = (err as { code?: unknown }).code
  const first = err.message.split(/\.\s/)[0] ?? err.message
  if (code === 'ERR_PARSE_ARGS_UNKNOWN_OPTION') return first.replace(/^Unknown option/, 'unknown option')
  if (code === 'ERR_PARSE_ARGS_INVALID_OPTION_VALUE') return first.replace(/^Option/, 'option')
  return first
}

/** An integer flag within [min, max]; `fallback` when absent. */
export function intFlag (command: string, values: Parsed['values'], name: string, fallback: number, min: number, max: number): number
export function intFlag (command: string, values: Parsed['values'], name: string, fallback: undefined, min: number, max: number): number | undefined
export function intFlag (command: string, values: Parsed['values'], name: string, fallback: number | undefined, min: number, max: number): number | undefined {
  const raw = values[name]
  if (raw === undefined) return fallback
  const text = String(raw).trim()
  const n = /^-?\d+$/.test(text) ? Number(text) : Number.NaN
  if (!Number.isSafeInteger(n) || n < min || n > max) {
    throw new UsageError(command, `--${name} must be an integer from ${min} to ${max} (got '${String(raw)}')`)
  }
  return n
}

/** A flag that takes one of a fixed set of words. */
export function choiceFlag<T extends string> (command: string, values: Parsed['values'], name: string, choices: readonly T[], fallback: T): T {
  const raw = values[name]
  if (raw === undefined) return fallback
  if (!(choices as readonly string[]).includes(String(raw))) {
    throw new UsageError(command, `--${name} must be one of ${choices.join(', ')} (got '${String(raw)}')`)
  }
  return raw as T
}
