/**
 * Vitest global setup: rebuild dist/ when it is older than src/, so a single
 * test file run after an edit never exercises stale code through what the
 * tests load from dist/ (the Piscina verify worker, the built CLI).
 *
 * Stale means: some file under src/ (or tsconfig.json / tsconfig.build.json)
 * was modified after the oldest file tsc emits for a source (tsc rewrites
 * every output on each build, so the oldest output is the last build's
 * time), or an output is missing. The check is a stat of each source and its
 * output: a few ms, so `npm test`, which has just built, pays nothing more.
 * A failed build stops the run with tsc's own messages.
 * SWARMBUS_TEST_NO_BUILD=1 skips the check (you manage dist/ yourself).
 */
import { execFileSync } from 'node:child_process'
import { readdirSync, statSync } from 'node:fs'
import { createRequire } from 'node:module'
import { join, relative } from 'node:path'
import { fileURLToPath } from 'node:url'

const ROOT = fileURLToPath(new URL('../..', import.meta.url))
const CONFIGS = ['tsconfig.json', 'tsconfig.build.json']

export interface Staleness {
  /** why dist/ must be rebuilt, or undefined when it is up to date */
  reason?: string
  /** files looked at */
  checked: number
}

function walk (dir: string, out: string[] = []): string[] {
  for (const entry of readdirSync(dir, { withFileTypes: true })) {
    const path = join(dir, entry.name)
    if (entry.isDirectory()) walk(path, out)
    else if (entry.isFile()) out.push(path)
  }
  return out
}

const mtime = (path: string): number | undefined => {
  try {
    return statSync(path).mtimeMs
  } catch {
    // a file that is not there has no time: the caller reads that as missing
    return undefined
  }
}

/** whether `root`/dist is older than `root`/src (see the file comment) */
export function staleness (root: string): Staleness {
  const src = join(root, 'src')
  const inputs = walk(src)
  let newest = { path: '', at: -Infinity }
  for (const path of [...inputs, ...CONFIGS.map(c => join(root, c))]) {
    const at = mtime(path)
    if (at !== undefined && at > newest.at) newest = { path, at }
  }
  let oldest = { path: '', at: Infinity }
  let checked = 0
  for (const path of inputs) {
    if (!path.endsWith('.ts') || path.endsWith('.d.ts')) continue
    const out = join(root, 'dist', relative(src, path)).replace(/\.ts$/, '.js')
    const at = mtime(out)
    checked++
    if (at === undefined) return { reason: `${relative(root, out)} is missing`, checked }
    if (at < oldest.at) oldest = { path: out, at }
  }
  if (checked === 0) return { reason: 'no sources found under src/', checked }
  if (newest.at > oldest.at) return { reason: `${relative(root, newest.path)} is newer than ${relative(root, oldest.path)}`, checked }
  return { checked }
}

export class BuildFailedError extends Error {
  override readonly name = 'BuildFailedError'
}

/** run tsc -p tsconfig.build.json in `root`; BuildFailedError with tsc's output when it fails */
export function build (root: string): void {
  const tsc = createRequire(import.meta.url).resolve('typescript/bin/tsc')
  try {
    execFileSync(process.execPath, [tsc, '-p', 'tsconfig.build.json'], { cwd: root, stdio: 'pipe', encoding: 'utf8' })
  } catch (err) {
    const e = err as { stdout?: string, stderr?: string }
    const output = `${e.stdout ?? ''}${e.stderr ?? ''}`.trim()
    throw new BuildFailedError(`dist/ is stale and \`npm run build\` failed; the tests load dist/ and would run old code. Fix the build (or set SWARMBUS_TEST_NO_BUILD=1 to run against dist/ as it is):\n${output}`, { cause: err })
  }
}

export default function setup (): void {
  if (process.env.SWARMBUS_TEST_NO_BUILD === '1') return
  const { reason } = staleness(ROOT)
  if (reason === undefined) return
  const started = performance.now()
  build(ROOT)
  const after = staleness(ROOT)
  if (after.reason !== undefined) throw new BuildFailedError(`dist/ is still stale after a build: ${after.reason}`)
  console.log(`[build-dist] rebuilt dist/ in ${Math.round(performance.now() - started)} ms (${reason})`)
}
