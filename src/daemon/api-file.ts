/**
 * `DIR/api`: the running daemon's API multiaddr, one line without a newline
 * (as kubo writes it: clients read it to find the daemon). Written when the
 * listener is up, removed on stop, only if it still holds what we wrote.
 */
import { readFileSync, rmSync } from 'node:fs'
import { readFile, rename, rm, writeFile } from 'node:fs/promises'
import { join } from 'node:path'
import { parseListenAddress, toUrl } from '../http/listen-address.js'
import { lockHolder } from './repo-lock.js'

export const API_FILE = 'api'

export const apiFilePath = (dir: string): string => join(dir, API_FILE)

export async function writeApiFile (dir: string, multiaddr: string): Promise<void> {
  const path = apiFilePath(dir)
  const tmp = `${path}.${process.pid}.tmp`
  await writeFile(tmp, multiaddr, { mode: 0o600 })
  await rename(tmp, path)
}

/** the API multiaddr DIR/api names, or undefined without the file */
export async function readApiFile (dir: string): Promise<string | undefined> {
  try {
    return (await readFile(apiFilePath(dir), 'utf8')).trim()
  } catch (err) {
    if ((err as { code?: string }).code === 'ENOENT') return undefined
    throw err
  }
}

export async function removeApiFile (dir: string, multiaddr: string): Promise<void> {
  if (await readApiFile(dir) === multiaddr) await rm(apiFilePath(dir), { force: true })
}

export function removeApiFileSync (dir: string, multiaddr: string): void {
  try {
    if (readFileSync(apiFilePath(dir), 'utf8').trim() !== multiaddr) return
  } catch {
    // no file: nothing to remove
    return
  }
  rmSync(apiFilePath(dir), { force: true })
}

export interface LiveDaemon {
  /** what DIR/api says */
  multiaddr: string
  /** http://host:port */
  url: string
  pid: number
}

/**
 * The daemon running on DIR, if one is: DIR/api names an address, the repo
 * lock's holder is a live daemon process, and its /health answers 200 within
 * `timeoutMs`. Undefined otherwise (no daemon, or an API file a killed one
 * left). For commands that use the running daemon and run in-process without one.
 */
export async function findDaemon (dir: string, timeoutMs = 1_000): Promise<LiveDaemon | undefined> {
  const multiaddr = await readApiFile(dir)
  if (multiaddr === undefined) return undefined
  const holder = await lockHolder(dir)
  if (holder?.command !== 'daemon') return undefined
  let url: string
  try {
    const { host, port } = parseListenAddress(multiaddr)
    url = toUrl(host, port)
  } catch {
    // not an address we could have written: no daemon of ours there
    return undefined
  }
  try {
    const r = await fetch(`${url}/health`, { signal: AbortSignal.timeout(timeoutMs) })
    await r.body?.cancel()
    return r.status === 200 ? { multiaddr, url, pid: holder.pid } : undefined
  } catch {
    // nothing answers there (yet, or any more)
    return undefined
  }
}
