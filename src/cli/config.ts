/**
 * `swarmbus config show|get|set`: the repo's config file (DIR/config, see
 * docs/daemon.md), by dotted keys (`Ipns.Quorum`, `Addresses.API`,
 * `API.Authorizations.alice`). A set is validated as a whole config and
 * written atomically; a running daemon reads the config at its start, so a
 * change applies at the next start.
 * Exit codes: 0 done, 1 failed (no config, unknown key, bad value), 2 usage error.
 */
import { resolve } from 'node:path'
import { parse, UsageError } from './args.js'
import { runGroup, subcommandTable } from './command-group.js'
import type { Subcommand } from './command-group.js'
import { failed, jsonLine, repoOf } from './key-repo.js'

export const summary = 'show, get and set keys of a repo\'s config file'

const TAIL = `  --repo DIR      the repo directory (required)
  --json          print JSON
  -h, --help      show this help
`

const SUBS: Record<string, Subcommand> = {
  show: {
    usage: 'show',
    summary: 'print the whole config (defaults filled in)',
    help: `Usage: swarmbus config show --repo DIR [options]

Prints the repo's config as JSON, with every key (missing ones at their
defaults). The file holds API secrets (API.Authorizations): mind where the
output goes.

Options:
${TAIL}`,
    run: show
  },
  get: {
    usage: 'get KEY',
    summary: 'print the value of one key',
    help: `Usage: swarmbus config get KEY --repo DIR [options]

Prints the value at a dotted KEY, e.g. Addresses.API, Ipns.Quorum, Bootstrap:
a string as it is, anything else as JSON. With --json: {"key", "value"}.

Options:
${TAIL}`,
    run: get
  },
  set: {
    usage: 'set KEY VALUE',
    summary: 'set one key (validated, then written)',
    help: `Usage: swarmbus config set KEY VALUE --repo DIR [options]

Sets the dotted KEY to VALUE, read as JSON (8, true, ["/ip4/…"], {"…": …}),
or as a plain string when it is not JSON (5m, /ip4/127.0.0.1/tcp/5001). The
whole config is validated before it is written; an error names the key. An
entry of a map setting is a key too (API.Authorizations.NAME,
Routing.Routers.NAME); null removes it. A running daemon applies the change
at its next start.

Options:
${TAIL}
Examples:
  swarmbus config set Ipns.Quorum 8 --repo ./data
  swarmbus config set Addresses.API /ip4/127.0.0.1/tcp/5002 --repo ./data
  swarmbus config set Bootstrap '["/ip4/127.0.0.1/tcp/4001/p2p/12D3KooW…"]' --repo ./data
  swarmbus config set API.Authorizations.ci '{"AuthSecret":"bearer:s3cret","AllowedPaths":["/api/v0"]}' --repo ./data
`,
    run: set
  }
}

export const help = `Usage: swarmbus config <command> [arguments] --repo DIR [options]

The repo's config file, DIR/config (JSON, kubo's layout where kubo has the
setting): addresses, bootstrap peers, network profile, routers, IPNS settings,
API authorizations and limits. Every key, its default and its meaning: see
docs/daemon.md.

Commands:
${subcommandTable(SUBS)}

Run 'swarmbus config <command> --help' for its options.
`

export async function run (argv: string[]): Promise<number> {
  return await runGroup('config', help, SUBS, argv)
}

function start (sub: string, argv: string[], positionals: number): ReturnType<typeof parse> | undefined {
  const parsed = parse(`config ${sub}`, argv, { repo: { type: 'string' }, json: { type: 'boolean' } }, positionals)
  if (parsed.values.help === true) {
    process.stdout.write(SUBS[sub]?.help ?? help)
    return undefined
  }
  if (parsed.positionals.length < positionals) throw new UsageError(`config ${sub}`, `missing ${sub === 'get' ? 'the KEY' : parsed.positionals.length === 0 ? 'the KEY and VALUE' : 'the VALUE'}`)
  return parsed
}

const text = (v: unknown): string => typeof v === 'string' ? v : JSON.stringify(v, null, 2)

async function show (argv: string[]): Promise<number> {
  const p = start('show', argv, 0)
  if (p === undefined) return 0
  const json = p.values.json === true
  try {
    const { loadConfig } = await import('../daemon/config-file.js')
    const config = await loadConfig(resolve(repoOf('config show', p.values)))
    process.stdout.write(json ? jsonLine(config) : JSON.stringify(config, null, 2) + '\n')
    return 0
  } catch (err) {
    return failed('config show', err, json, false)
  }
}

async function get (argv: string[]): Promise<number> {
  const p = start('get', argv, 1)
  if (p === undefined) return 0
  const key = p.positionals[0] as string
  const json = p.values.json === true
  try {
    const { getKey, loadConfig } = await import('../daemon/config-file.js')
    const value = getKey(await loadConfig(resolve(repoOf('config get', p.values))), key)
    process.stdout.write(json ? jsonLine({ key, value }) : text(value) + '\n')
    return 0
  } catch (err) {
    return failed('config get', err, json, false)
  }
}

async function set (argv: string[]): Promise<number> {
  const p = start('set', argv, 2)
  if (p === undefined) return 0
  const key = p.positionals[0] as string
  const json = p.values.json === true
  try {
    const { getKey, loadConfig, parseValue, saveConfig, setKey } = await import('../daemon/config-file.js')
    const dir = resolve(repoOf('config set', p.values))
    const next = setKey(await loadConfig(dir), key, parseValue(p.positionals[1] as string))
    await saveConfig(dir, next)
    let value: unknown
    try {
      value = getKey(next, key)
    } catch {
      // a map entry set to null is gone now
      value = null
    }
    const { lockHolder } = await import('../daemon/repo-lock.js')
    const holder = await lockHolder(dir)
    process.stdout.write(json ? jsonLine({ key, value }) : `${key} = ${JSON.stringify(value)}\n`)
    if (holder?.command === 'daemon' && !json) process.stderr.write(`note: the daemon (pid ${holder.pid}) applies this at its next start\n`)
    return 0
  } catch (err) {
    return failed('config set', err, json, false)
  }
}
