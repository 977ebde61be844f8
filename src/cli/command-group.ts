/**
 * A command with subcommands (`swarmbus key …`, `record …`, `name …`): one
 * dispatcher, so every group answers --help, a missing subcommand and an
 * unknown one the same way.
 */
import { UsageError } from './args.js'

export interface Subcommand {
  /** e.g. 'publish [--key NAME] PATH' */
  usage: string
  /** one line for the group's --help */
  summary: string
  /** the subcommand's own --help */
  help: string
  run: (argv: string[]) => Promise<number>
}

/** The subcommand table of a group's --help, aligned. */
export function subcommandTable (subs: Record<string, Subcommand>): string {
  const width = Math.max(...Object.values(subs).map(s => s.usage.length))
  return Object.values(subs).map(s => `  ${s.usage.padEnd(width)}  ${s.summary}`).join('\n')
}

export async function runGroup (group: string, help: string, subs: Record<string, Subcommand>, argv: string[]): Promise<number> {
  const [sub, ...rest] = argv
  if (sub === undefined) {
    process.stderr.write(help)
    return 2
  }
  if (sub === '-h' || sub === '--help') {
    process.stdout.write(help)
    return 0
  }
  const entry = Object.hasOwn(subs, sub) ? subs[sub] : undefined
  if (entry === undefined) {
    if (sub.startsWith('-')) throw new UsageError(group, `unknown option '${sub}' (options go after the ${group} command: swarmbus ${group} <command> [options])`)
    throw new UsageError(group, `unknown ${group} command '${sub}' (one of ${Object.keys(subs).join(', ')})`)
  }
  return await entry.run(rest)
}
