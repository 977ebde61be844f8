/**
 * The repo lock: one holder; a live holder refused with its pid; a lock
 * whose process is gone taken over; release removes only our own lock.
 */
import { spawnSync } from 'node:child_process'
import { existsSync } from 'node:fs'
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { afterEach, beforeEach, describe, expect, it } from 'vitest'
import { lockHolder, lockRepo, RepoLockedError } from '../../src/daemon/repo-lock.js'
import { readApiFile, removeApiFile, writeApiFile } from '../../src/daemon/api-file.js'
import { textLine } from '../../src/daemon/logger.js'

let dir = ''
beforeEach(async () => { dir = await mkdtemp(join(tmpdir(), 'swarmbus-lock-')) })
afterEach(async () => { await rm(dir, { recursive: true, force: true }) })

/** the pid of a process that has exited */
function deadPid (): number {
  const r = spawnSync(process.execPath, ['-e', 'process.stdout.write(String(process.pid))'], { encoding: 'utf8' })
  return Number(r.stdout)
}

describe('lockRepo', () => {
  it('lets one holder in and names it to the next', async () => {
    const lock = await lockRepo(dir, 'daemon')
    expect(JSON.parse(await readFile(join(dir, 'repo.lock'), 'utf8'))).toMatchObject({ pid: process.pid, command: 'daemon' })
    const err = await lockRepo(dir, 'init').then(() => undefined, (e: unknown) => e)
    expect(err).toBeInstanceOf(RepoLockedError)
    expect((err as RepoLockedError).message).toContain(`pid ${process.pid}, daemon since`)
    expect(await lockHolder(dir)).toMatchObject({ pid: process.pid })
    await lock.release()
    expect(existsSync(join(dir, 'repo.lock'))).toBe(false)
    expect(await lockHolder(dir)).toBeUndefined()
    const again = await lockRepo(dir, 'daemon')
    await again.release()
  })

  it('refuses a live holder of another process, by pid', async () => {
    // pid 1 is alive (init, or this container's first process)
    await writeFile(join(dir, 'repo.lock'), JSON.stringify({ pid: 1, command: 'daemon', since: 'then' }))
    if (process.pid !== 1) await expect(lockRepo(dir, 'daemon')).rejects.toThrow(/pid 1, daemon since then/)
  })

  it('takes over a lock whose process is gone, or that is not a lock', async () => {
    await writeFile(join(dir, 'repo.lock'), JSON.stringify({ pid: deadPid(), command: 'daemon', since: 'then' }))
    const lock = await lockRepo(dir, 'daemon')
    expect(JSON.parse(await readFile(join(dir, 'repo.lock'), 'utf8'))).toMatchObject({ pid: process.pid })
    await lock.release()
    await writeFile(join(dir, 'repo.lock'), 'garbage')
    const other = await lockRepo(dir, 'daemon')
    other.releaseSync()
    expect(existsSync(join(dir, 'repo.lock'))).toBe(false)
  })

  it('release leaves a lock that is not ours', async () => {
    const lock = await lockRepo(dir, 'daemon')
    await writeFile(join(dir, 'repo.lock'), JSON.stringify({ pid: 1, command: 'daemon', since: 'later' }))
    await lock.release()
    expect(existsSync(join(dir, 'repo.lock'))).toBe(true)
  })
})

describe('DIR/api and log lines', () => {
  it('writes the API multiaddr as kubo does and removes only its own', async () => {
    await writeApiFile(dir, '/ip4/127.0.0.1/tcp/5001')
    expect(await readFile(join(dir, 'api'), 'utf8')).toBe('/ip4/127.0.0.1/tcp/5001')
    await removeApiFile(dir, '/ip4/127.0.0.1/tcp/9999')
    expect(await readApiFile(dir)).toBe('/ip4/127.0.0.1/tcp/5001')
    await removeApiFile(dir, '/ip4/127.0.0.1/tcp/5001')
    expect(await readApiFile(dir)).toBeUndefined()
  })

  it('turns a pino line into a readable one', () => {
    const line = textLine(JSON.stringify({ level: 'warn', time: '2026-12-03T13:00:00.000Z', pid: 7, msg: 'request failed', status: 503, url: '/a b', err: { type: 'StoppedError', message: 'stopped' } }) + '\n')
    expect(line).toBe('2026-12-03T13:00:00.000Z WARN  request failed status=503 url="/a b" err="StoppedError: stopped"\n')
    expect(textLine('not json')).toBe('not json')
  })
})
