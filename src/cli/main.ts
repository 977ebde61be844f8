#!/usr/bin/env node
/**
 * The swarmbus command line: a face on the bus with no logic of its own.
 * Commands load the library (and libp2p) only once their arguments are good,
 * so `--help` and usage errors answer at once, and an old Node is told so
 * before anything fails obscurely.
 *
 * Exit codes: 0 success, 1 failure (a failed step, an error from the node),
 * 2 usage error (unknown command or flag, bad value) or unreadable input.
 */
import { readFileSync } from 'node:fs'
import { UsageError } from './args.js'
import * as config from './config.js'
import * as daemon from './daemon.js'
import * as demo from './demo.js'
import * as dht from './dht.js'
import { errorLine } from './format.js'
import * as init from './init.js'
import * as key from './key.js'
import * as name from './name.js'
import * as record from './record.js'
import * as replay from './replay.js'
import * as testnet from './testnet.js'

interface Command {
  summary: string
  help: string
  run: (argv: string[]) => Promise<number>
}

const COMMANDS: Record<string, Command> = { demo, testnet, replay, key, record, name, dht, init, daemon, config }

const MIN_NODE_MAJOR = 22

function version (): string {
  try {
    const pkg = JSON.parse(readFileSync(new URL('../../package.json', import.meta.url), 'utf8')) as { version?: unknown }
    return typeof pkg.version === 'string' ? pkg.version : 'unknown'
  } catch {
    return 'unknown'
  }
}

function globalHelp (): string {
  const width = Math.max(...Object.keys(COMMANDS).map(k => k.length))
  return `Usage: swarmbus <command> [options]

IPNS and the libp2p Kademlia DHT through a typed command bus.

Commands:
${Object.entries(COMMANDS).map(([name, c]) => `  ${name.padEnd(width)}  ${c.summary}`).join('\n')}

Options:
  -h, --help     show help (also: swarmbus <command> --help, swarmbus help <command>)
  -v, --version  print the version

Examples:
  swarmbus demo                      12 nodes, every step timed and checked
  swarmbus demo --nodes 4 --json     the same as one JSON object
  swarmbus demo --trace n1.jsonl     record node n1, then: swarmbus replay n1.jsonl
  swarmbus testnet --nodes 3         run a testnet until Ctrl-C
  swarmbus key gen blog --repo DIR   a named key (passphrase: SWARMBUS_PASSPHRASE)
  swarmbus record inspect FILE       every field of an IPNS record
  swarmbus name publish /ipfs/… --repo DIR
                                     publish under the repo's IPNS name (public network)
  swarmbus name resolve k51…         the path a name points at (public network)
  swarmbus name resolve k51… --network local --bootstrap ADDR
                                     the same on a testnet
  swarmbus dht findprovs bafy…       the providers of a CID
  swarmbus init --repo DIR           a repo: identity and config file
  swarmbus daemon --repo DIR         run the node with the HTTP API
  swarmbus config get Addresses.API --repo DIR
                                     one key of the repo's config
`
}

function usageError (err: UsageError): number {
  const prefix = err.command === '' ? 'swarmbus' : `swarmbus ${err.command}`
  const more = err.command === '' ? 'swarmbus --help' : `swarmbus ${err.command} --help`
  process.stderr.write(`${prefix}: ${err.message}\nRun '${more}' for usage.\n`)
  return 2
}

export async function main (argv: string[]): Promise<number> {
  const [first, ...rest] = argv
  if (first === undefined) {
    process.stderr.write(globalHelp())
    return 2
  }
  if (first === '-h' || first === '--help') {
    process.stdout.write(globalHelp())
    return 0
  }
  if (first === '-v' || first === '--version') {
    process.stdout.write(`swarmbus ${version()}\n`)
    return 0
  }
  if (first === 'help') {
    const about = rest[0]
    if (about === undefined) {
      process.stdout.write(globalHelp())
      return 0
    }
    const entry = COMMANDS[about]
    if (entry === undefined) return usageError(new UsageError('', `unknown command '${about}'`))
    process.stdout.write(entry.help)
    return 0
  }
  if (first.startsWith('-')) return usageError(new UsageError('', `unknown option '${first}' (options go after the command)`))
  const entry = Object.hasOwn(COMMANDS, first) ? COMMANDS[first] : undefined
  if (entry === undefined) {
    const near = Object.keys(COMMANDS).find(k => k.startsWith(first.slice(0, 2)))
    return usageError(new UsageError('', `unknown command '${first}'${near !== undefined ? ` (did you mean '${near}'?)` : ''}`))
  }

  const major = Number(process.versions.node.split('.')[0])
  if (major < MIN_NODE_MAJOR) {
    process.stderr.write(`swarmbus: needs Node.js ${MIN_NODE_MAJOR} or later; this is ${process.version} (${process.execPath})\n`)
    return 1
  }
  try {
    return await entry.run(rest)
  } catch (err) {
    if (err instanceof UsageError) return usageError(err)
    process.stderr.write(`swarmbus ${first}: ${errorLine(err)}\n`)
    return 1
  }
}

/**
 * Runs main and lets the process end on its own. If something still holds
 * the event loop a few seconds after the command is done (everything it
 * started is stopped by then), name it and exit anyway.
 */
async function cli (): Promise<void> {
  const code = await main(process.argv.slice(2))
  process.exitCode = code
  const guard = setTimeout(() => {
    const held = process.getActiveResourcesInfo().filter(r => r !== 'Timeout')
    process.stderr.write(`swarmbus: still running 5 s after the command ended (held by: ${held.join(', ') || 'timers'}); exiting\n`)
    process.exit(code)
  }, 5_000)
  guard.unref()
}

await cli()
