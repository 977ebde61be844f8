/**
 * `swarmbus daemon --repo DIR`: one long-lived node on the repo with the HTTP
 * API (see src/daemon/daemon.ts and docs/daemon.md). Prints, as kubo does,
 * the peer id, the swarm addresses and "RPC API server listening on …" on
 * stdout once it serves; logs (pino) go to stderr.
 *
 * SIGINT / SIGTERM: a graceful stop, exit 0 (1 if a step of it failed). A
 * second signal during it exits at once (128 + the signal's number), after
 * removing DIR/api and the repo lock.
 * Exit codes: 0 stopped cleanly, 1 failed to start or to stop, 2 usage error.
 */
import { constants } from 'node:os'
import { choiceFlag, parse } from './args.js'
import { PASSPHRASE_ENV, failed, keystorePassphrase, refusePlainPassphrase, repoOf } from './key-repo.js'

export const summary = 'run a node on a repo with the HTTP API, until SIGINT/SIGTERM'

export const help = `Usage: swarmbus daemon --repo DIR [options]

Runs the repo's node (created by 'swarmbus init') until SIGINT or SIGTERM:
libp2p on Addresses.Swarm, joining the Bootstrap peers (and retrying while it
reaches none), and the HTTP API on Addresses.API (default
/ip4/127.0.0.1/tcp/5001) with /health and /ready. It writes the API's
multiaddr to DIR/api while it runs. Only one process may use a repo.

A signal stops it gracefully: no new requests, those in flight get
API.Limits.ShutdownTimeout to finish, the node stops (the store is flushed),
exit 0. A second signal exits at once.

Options:
  --repo DIR                the repo directory (required)
  --passphrase-file FILE    the keystore passphrase is the first line of FILE
                            (default: $${PASSPHRASE_ENV}; without either the
                            named keys are locked, 'self' still works)
  --log-format F            text (default on a terminal) or json (default
                            otherwise): pino's JSON lines on stderr
  --log-level L             trace, debug, info (default), warn, error, silent
  -h, --help                show this help

See docs/daemon.md (config, the API file, systemd, logs, shutdown).
`

export async function run (argv: string[]): Promise<number> {
  const command = 'daemon'
  refusePlainPassphrase(command, argv)
  const p = parse(command, argv, {
    repo: { type: 'string' },
    'passphrase-file': { type: 'string' },
    'log-format': { type: 'string' },
    'log-level': { type: 'string' }
  })
  if (p.values.help === true) {
    process.stdout.write(help)
    return 0
  }
  const repo = repoOf(command, p.values)
  const { LOG_FORMATS, LOG_LEVELS, createLogger } = await import('../daemon/logger.js')
  const format = choiceFlag(command, p.values, 'log-format', LOG_FORMATS, process.stderr.isTTY ? 'text' : 'json')
  const level = choiceFlag(command, p.values, 'log-level', LOG_LEVELS, 'info')
  const passphrase = await keystorePassphrase(command, p.values)
  const log = createLogger({ format, level })
  const { startDaemon } = await import('../daemon/daemon.js')
  // signals from the start on: one during the start stops the daemon as soon as it is up
  let daemon: Awaited<ReturnType<typeof startDaemon>> | undefined
  let signals = 0
  let first: NodeJS.Signals = 'SIGTERM'
  let stopNow: ((signal: NodeJS.Signals) => void) | undefined
  const onSignal = (signal: NodeJS.Signals): void => {
    signals++
    if (signals > 1) {
      log.warn({ signal }, 'second signal: exiting now')
      daemon?.abandon()
      process.exit(128 + (constants.signals[signal] ?? 15))
    }
    first = signal
    log.info({ signal }, 'signal received: stopping gracefully (send it again to exit at once)')
    if (stopNow !== undefined) stopNow(signal)
  }
  const fatal = (what: string) => (err: unknown): void => {
    log.fatal({ err }, what)
    daemon?.abandon()
    process.exit(1)
  }
  process.on('SIGINT', onSignal)
  process.on('SIGTERM', onSignal)
  process.on('uncaughtException', fatal('uncaught exception: exiting'))
  process.on('unhandledRejection', fatal('unhandled rejection: exiting'))
  try {
    daemon = await startDaemon({ repo, logger: log, ...(passphrase !== undefined ? { passphrase } : {}) })
  } catch (err) {
    log.error({ err }, 'the daemon failed to start')
    return failed(command, err, false, passphrase === undefined)
  }
  const running = daemon
  log.info({ peerId: running.node.peerId, swarm: running.node.multiaddrs, api: running.http.multiaddr, url: running.http.url }, 'daemon started')
  process.stdout.write([
    `swarmbus daemon, repo ${running.repo}`,
    `peer identity: ${running.node.peerId}`,
    ...running.node.multiaddrs.map(a => `Swarm listening on ${a}`),
    `RPC API server listening on ${running.http.multiaddr}`,
    `health at ${running.http.url}/health, readiness at ${running.http.url}/ready`,
    'Daemon is ready',
    ''
  ].join('\n'))

  return await new Promise<number>(resolve => {
    stopNow = (signal: NodeJS.Signals): void => {
      process.stdout.write(`\nReceived ${signal}: shutting down…\n`)
      running.stop(signal).then(() => {
        process.removeListener('SIGINT', onSignal)
        process.removeListener('SIGTERM', onSignal)
        resolve(0)
      }, (err: unknown) => {
        log.error({ err }, 'the graceful stop failed')
        resolve(1)
      })
    }
    // a signal that came during the start
    if (signals > 0) stopNow(first)
  })
}
