/**
 * The global setup's staleness check and build, on a small project of its
 * own in a temp dir (real files, real mtimes, the real tsc), and its cost on
 * this repo when nothing changed.
 */
import { mkdtemp, mkdir, rm, utimes, writeFile } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { fileURLToPath } from 'node:url'
import { afterEach, describe, expect, it } from 'vitest'
import { build, BuildFailedError, staleness } from './build-dist.js'

const dirs: string[] = []
afterEach(async () => { for (const d of dirs.splice(0)) await rm(d, { recursive: true, force: true }) })

async function project (): Promise<string> {
  const root = await mkdtemp(join(tmpdir(), 'swarmbus-build-dist-'))
  dirs.push(root)
  await mkdir(join(root, 'src', 'sub'), { recursive: true })
  await writeFile(join(root, 'package.json'), '{ "type": "module" }\n')
  await writeFile(join(root, 'tsconfig.json'), JSON.stringify({ compilerOptions: { target: 'ES2023', module: 'NodeNext', moduleResolution: 'NodeNext', strict: true, types: [] } }))
  await writeFile(join(root, 'tsconfig.build.json'), JSON.stringify({ extends: './tsconfig.json', compilerOptions: { rootDir: 'src', outDir: 'dist' }, include: ['src'] }))
  await writeFile(join(root, 'src', 'a.ts'), 'export const a: number = 1\n')
  await writeFile(join(root, 'src', 'sub', 'b.ts'), 'export const b: string = "b"\n')
  // written long ago: only what a test touches later is newer than a build
  const past = Date.now() / 1000 - 1000
  for (const f of ['tsconfig.json', 'tsconfig.build.json', 'src/a.ts', 'src/sub/b.ts']) await utimes(join(root, f), past, past)
  return root
}

async function at (path: string, seconds: number): Promise<void> { await utimes(path, seconds, seconds) }

describe('the build-dist global setup', () => {
  it('is stale without dist/, fresh after a build, stale again when a source, a non-ts file or a tsconfig changes', async () => {
    const root = await project()
    expect(staleness(root).reason).toMatch(/dist\/a\.js is missing/)
    build(root)
    expect(staleness(root)).toEqual({ checked: 2 })

    // a source edited after the build (the build's outputs set back in time, the edit after them)
    const now = Date.now() / 1000
    const outputs = [join(root, 'dist', 'a.js'), join(root, 'dist', 'sub', 'b.js')]
    for (const o of outputs) await at(o, now - 100)
    await at(join(root, 'src', 'sub', 'b.ts'), now - 50)
    expect(staleness(root).reason).toBe('src/sub/b.ts is newer than dist/a.js')
    build(root)
    expect(staleness(root).reason).toBeUndefined()

    // a non-ts file under src/ (a .proto) and the build config count too
    for (const o of outputs) await at(o, now - 100)
    await writeFile(join(root, 'src', 'x.proto'), 'syntax = "proto3";\n')
    await at(join(root, 'src', 'x.proto'), now - 50)
    await at(join(root, 'src', 'sub', 'b.ts'), now - 200)
    expect(staleness(root).reason).toBe('src/x.proto is newer than dist/a.js')
    await at(join(root, 'tsconfig.build.json'), now - 10)
    expect(staleness(root).reason).toBe('tsconfig.build.json is newer than dist/a.js')
  })

  it('a failing build throws BuildFailedError with tsc\'s message', async () => {
    const root = await project()
    await writeFile(join(root, 'src', 'a.ts'), 'export const a: number = "not a number"\n')
    const err = (() => { try { build(root) } catch (e) { return e } })() as Error
    expect(err).toBeInstanceOf(BuildFailedError)
    expect(err.name).toBe('BuildFailedError')
    expect(err.message).toContain("Type 'string' is not assignable to type 'number'")
    expect(err.message).toContain('src/a.ts')
    expect(err.cause).toBeDefined()
  })

  it('checks this repo (every source under src/)', () => {
    const repo = fileURLToPath(new URL('../..', import.meta.url))
    const s = staleness(repo)
    // vitest's global setup has just built it
    expect(s.reason).toBeUndefined()
    expect(s.checked).toBeGreaterThan(100)
  })
})
