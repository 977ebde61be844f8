/**
 * `DIR/api`: the running daemon's API multiaddr, one line without a newline
 * (as kubo writes it: clients read it to find the daemon). Written when the
 * listener is up, removed on stop, only if it still holds what we wrote.
 */
import { readFileSync, rmSync } from 'node:fs'
import { readFile, rename, rm, writeFile } from 'node:fs/promises'
import { join } from 'node:path'

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
