/**
 * One process per repo: `DIR/repo.lock` holds the holder's pid as JSON. It
 * is created whole or not at all (written to a temporary file, then
 * hard-linked to the lock's name, which fails if one exists), so no reader
 * ever sees a half-written lock. A lock whose pid is not a live process (the
 * holder was killed) is stale and taken over; a live holder is a
 * RepoLockedError naming its pid. LevelDB's own LOCK file stays under it:
 * a one-shot command (`swarmbus key …`) that holds the datastore without
 * this lock still makes createNode fail with "is another swarmbus process
 * using it?".
 */
import { link, readFile, rm, writeFile } from 'node:fs/promises'
import { readFileSync, rmSync } from 'node:fs'
import { join } from 'node:path'

export const LOCK_FILE = 'repo.lock'

export interface LockHolder {
  pid: number
  /** what holds it: 'daemon', 'init' */
  command: string
  /** ISO date of the lock */
  since: string
}

export class RepoLockedError extends Error {
  override readonly name = 'RepoLockedError'
  readonly code = 'REPO_LOCKED'
  readonly holder: LockHolder
  constructor (dir: string, holder: LockHolder) {
    super(`the repo ${dir} is in use by another swarmbus process (pid ${holder.pid}, ${holder.command} since ${holder.since}); stop it first, or use another --repo`)
    this.holder = holder
  }
}

export interface RepoLock {
  readonly path: string
  /** removes the lock if it is still ours (idempotent) */
  release(): Promise<void>
  /** the same, synchronously (for an exit that cannot wait) */
  releaseSync(): void
}

/** the locks this process holds */
const held = new Set<string>()

function alive (pid: number): boolean {
  try {
    process.kill(pid, 0)
    return true
  } catch (err) {
    // EPERM: a live process of another user
    return (err as { code?: string }).code === 'EPERM'
  }
}

function parseHolder (text: string): LockHolder | undefined {
  try {
    const h = JSON.parse(text) as Partial<LockHolder>
    if (typeof h.pid === 'number' && Number.isSafeInteger(h.pid) && h.pid > 0) return { pid: h.pid, command: String(h.command ?? '?'), since: String(h.since ?? '?') }
  } catch { /* not JSON: no holder, the caller treats the lock as stale */ }
  return undefined
}

/** Who holds DIR's lock now (a live process), or undefined. */
export async function lockHolder (dir: string): Promise<LockHolder | undefined> {
  let text: string
  try {
    text = await readFile(join(dir, LOCK_FILE), 'utf8')
  } catch (err) {
    if ((err as { code?: string }).code === 'ENOENT') return undefined
    throw err
  }
  const h = parseHolder(text)
  return h !== undefined && alive(h.pid) ? h : undefined
}

/** Takes DIR's lock for `command` (the directory must exist). */
export async function lockRepo (dir: string, command: string): Promise<RepoLock> {
  const path = join(dir, LOCK_FILE)
  const mine: LockHolder = { pid: process.pid, command, since: new Date().toISOString() }
  const text = JSON.stringify(mine) + '\n'
  const tmp = `${path}.${process.pid}.tmp`
  await writeFile(tmp, text, { mode: 0o600 })
  try {
    for (let attempt = 0; ; attempt++) {
      try {
        await link(tmp, path)
        break
      } catch (err) {
        if ((err as { code?: string }).code !== 'EEXIST' || attempt >= 3) throw err
      }
      let other: string
      try {
        other = await readFile(path, 'utf8')
      } catch (err) {
        if ((err as { code?: string }).code === 'ENOENT') continue
        throw err
      }
      const holder = parseHolder(other)
      // our own pid: this process holds it (held), or a dead process had our pid (pid 1 in a container: stale)
      if (holder !== undefined && (holder.pid === process.pid ? held.has(path) : alive(holder.pid))) throw new RepoLockedError(dir, holder)
      // stale: its process is gone; take it over (a racing taker loses at link)
      await rm(path, { force: true })
    }
  } finally {
    await rm(tmp, { force: true })
  }
  held.add(path)
  const ours = (): boolean => {
    try {
      return readFileSync(path, 'utf8') === text
    } catch {
      // gone already: nothing of ours to remove
      return false
    }
  }
  let released = false
  return {
    path,
    release: async () => {
      if (released) return
      released = true
      held.delete(path)
      if (ours()) await rm(path, { force: true })
    },
    releaseSync: () => {
      if (released) return
      released = true
      held.delete(path)
      if (ours()) rmSync(path, { force: true })
    }
  }
}
