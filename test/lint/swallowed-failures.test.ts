/**
 * The "loud failures" lint rules (eslint.config.js): a rejection handler with
 * an empty body, and an empty catch block, are refused in src/ and examples/;
 * a handler that does something, a catch that says why, or an
 * eslint-disable comment with a reason passes. Linted with the repository's
 * own config through ESLint's API, at the paths named (nothing is written).
 */
import { ESLint } from 'eslint'
import { fileURLToPath } from 'node:url'
import { describe, expect, it } from 'vitest'

const ROOT = fileURLToPath(new URL('../..', import.meta.url))
const eslint = new ESLint({ cwd: ROOT })

async function problems (path: string, code: string): Promise<string[]> {
  const [result] = await eslint.lintText(code, { filePath: `${ROOT}/${path}` })
  return (result?.messages ?? []).filter(m => m.ruleId === 'no-restricted-syntax' || m.ruleId === 'no-empty').map(m => m.ruleId ?? '')
}

const PATHS = ['src/actors/swarm/probe.ts', 'src/actors/ipns/probe.ts', 'src/node/probe.ts', 'src/records/probe.ts', 'src/cli/probe.ts', 'examples/probe.ts']

describe('no failure swallowed silently', () => {
  it('refuses .catch(() => {}), .then(f, () => {}) and an empty catch block', async () => {
    for (const path of PATHS) {
      expect(await problems(path, 'export function f (p: Promise<void>): void { p.catch(() => {}) }\n'), path).toEqual(['no-restricted-syntax'])
      expect(await problems(path, 'export function f (p: Promise<void>): void { p.then(() => 1, () => {}) }\n'), path).toEqual(['no-restricted-syntax'])
      expect(await problems(path, 'export function f (): void { try { JSON.parse("") } catch {} }\n'), path).toEqual(['no-empty'])
    }
  })

  it('lets a handler that acts, a catch that says why, and a disable with a reason through', async () => {
    for (const path of PATHS) {
      expect(await problems(path, 'export function f (p: Promise<void>, n: { c: number }): void { p.catch(() => { n.c++ }) }\n'), path).toEqual([])
      expect(await problems(path, 'export function f (): void { try { JSON.parse("") } catch { /* not JSON: the default stands */ } }\n'), path).toEqual([])
      expect(await problems(path, 'export function f (p: Promise<void>): void {\n  // eslint-disable-next-line no-restricted-syntax -- the abort answered already\n  p.catch(() => {})\n}\n'), path).toEqual([])
    }
  })
})
