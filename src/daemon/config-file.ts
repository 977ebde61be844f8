/**
 * The config file `DIR/config` (JSON, as kubo's): read and validated,
 * written atomically (a temporary file renamed over it, mode 0600: it may
 * hold API secrets), and its dotted keys read and set (`Ipns.Quorum`,
 * `API.Authorizations.alice`), each set validated as a whole config before
 * anything is written.
 */
import { readFile, rename, writeFile } from 'node:fs/promises'
import { join } from 'node:path'
import { ConfigError, schemaAt, validateConfig } from './config-schema.js'
import type { DaemonConfig } from './config-schema.js'

export const CONFIG_FILE = 'config'
/** a config file larger than this is not one */
const MAX_CONFIG_BYTES = 1024 * 1024

export const configPath = (dir: string): string => join(dir, CONFIG_FILE)

/** The config read from DIR/config; a missing or bad file is a ConfigError that says what to do. */
export async function loadConfig (dir: string): Promise<DaemonConfig> {
  const path = configPath(dir)
  let text: string
  try {
    text = await readFile(path, 'utf8')
  } catch (err) {
    if ((err as { code?: string }).code === 'ENOENT') throw new ConfigError('', `no config at ${path}: run 'swarmbus init --repo ${dir}' first`, { cause: err })
    throw new ConfigError('', `cannot read ${path}: ${(err as Error).message}`, { cause: err })
  }
  if (text.length > MAX_CONFIG_BYTES) throw new ConfigError('', `${path} is over ${MAX_CONFIG_BYTES} bytes: not a config`)
  let raw: unknown
  try {
    raw = JSON.parse(text)
  } catch (err) {
    throw new ConfigError('', `${path} is not JSON: ${(err as Error).message}`, { cause: err })
  }
  try {
    return validateConfig(raw)
  } catch (err) {
    if (err instanceof ConfigError) throw new ConfigError(err.key, `${err.message.slice(err.key === '' ? 0 : err.key.length + 2)} (in ${path})`, { cause: err })
    throw err
  }
}

export async function saveConfig (dir: string, config: DaemonConfig): Promise<void> {
  const path = configPath(dir)
  const tmp = `${path}.${process.pid}.tmp`
  await writeFile(tmp, JSON.stringify(config, null, 2) + '\n', { mode: 0o600 })
  await rename(tmp, path)
}

function split (key: string): string[] {
  const parts = key.split('.')
  if (key === '' || parts.some(p => p === '')) throw new ConfigError(key, 'not a config key (dotted names such as Ipns.Quorum)')
  return parts
}

/** The value at a dotted key; a ConfigError when there is none. */
export function getKey (config: DaemonConfig, key: string): unknown {
  let at: unknown = config
  for (const part of split(key)) {
    if (typeof at !== 'object' || at === null || !Object.hasOwn(at, part)) {
      throw new ConfigError(key, schemaAt(key) === undefined ? 'unknown key (see swarmbus config show, or docs/daemon.md)' : 'not set')
    }
    at = (at as Record<string, unknown>)[part]
  }
  return at
}

/**
 * The config with `value` at a dotted key, validated. Keys are those of the
 * schema, or an entry inside a map setting (API.Authorizations.<name>,
 * Routing.Routers.<name>); Identity is set by init only.
 */
export function setKey (config: DaemonConfig, key: string, value: unknown): DaemonConfig {
  const parts = split(key)
  if (parts[0] === 'Identity') throw new ConfigError(key, 'the identity is the repo\'s key; it is set by swarmbus init, not by hand')
  // the deepest schema entry on the key's path must exist: a leaf (maybe a map we go into) or a branch
  let known = ''
  for (let i = parts.length; i > 0; i--) {
    const prefix = parts.slice(0, i).join('.')
    if (schemaAt(prefix) !== undefined) { known = prefix; break }
  }
  const entry = known === '' ? undefined : schemaAt(known)
  if (entry === undefined || (known !== key && (entry as { leaf?: boolean }).leaf !== true)) {
    throw new ConfigError(key, 'unknown key (see swarmbus config show, or docs/daemon.md)')
  }
  if (known !== key) {
    // only a map setting (API.Authorizations, Routing.Routers) has keys of its own
    const dflt = (entry as { default: () => unknown }).default()
    if (typeof dflt !== 'object' || dflt === null || Array.isArray(dflt)) throw new ConfigError(key, `unknown key (${known} is a setting with no keys inside)`)
  }
  const copy = structuredClone(config) as unknown as Record<string, unknown>
  let at = copy
  for (const part of parts.slice(0, -1)) {
    const next = at[part]
    if (typeof next !== 'object' || next === null || Array.isArray(next)) {
      if (next !== undefined) throw new ConfigError(key, `${part} is not an object`)
      at[part] = {}
    }
    at = at[part] as Record<string, unknown>
  }
  const last = parts[parts.length - 1] as string
  if (value === null && known !== key) delete at[last]
  else at[last] = value
  return validateConfig(copy)
}

/** A value given on the command line: JSON, or else the text itself as a string. */
export function parseValue (text: string): unknown {
  try {
    return JSON.parse(text)
  } catch {
    // not JSON: a bare word such as 5m or /ip4/…/tcp/5001 is meant as a string
    return text
  }
}
