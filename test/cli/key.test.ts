/**
 * `swarmbus key …` through the built CLI (dist/cli/main.js) as child
 * processes against temp repos: gen/list/rename/rm/export/import round trip,
 * a locked keystore (no passphrase), a wrong passphrase, and usage errors.
 * Every command starts and stops a real node, so independent flows run on
 * their own repos at the same time. Needs `npm run build` first.
 */
import { existsSync } from 'node:fs'
import { mkdtemp, readFile, rm, stat, writeFile } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { MAIN, runCli } from '../helpers/cli-process.js'
import type { CliRun } from '../helpers/cli-process.js'
import type { ChildProcess } from 'node:child_process'

const children = new Set<ChildProcess>()
let dir = ''

interface KeyInfo { name: string, type: string, peerId: string, ipnsName: string }

/** Runs the CLI to its end with exactly the env given (plus PATH and the network guard); SIGKILL after timeoutMs. */
function cli (args: string[], env: Record<string, string> = {}, input?: string, timeoutMs = 30_000): Promise<CliRun> {
  return runCli(children, args, timeoutMs, env, input)
}

const PASS = { SWARMBUS_PASSPHRASE: 'correct horse battery staple' }
const EXPORT = { SWARMBUS_EXPORT_PASSPHRASE: 'export secret' }

beforeAll(async () => {
  if (!existsSync(MAIN)) throw new Error(`${MAIN} is missing: run 'npm run build' first`)
  dir = await mkdtemp(join(tmpdir(), 'swarmbus-key-'))
})

afterAll(async () => {
  for (const child of children) child.kill('SIGKILL')
  if (dir !== '') await rm(dir, { recursive: true, force: true })
})

describe('swarmbus key', () => {
  it('usage errors exit 2 before any node starts', async () => {
    const repo = join(dir, 'usage')
    const pfile = join(dir, 'empty-pass')
    await writeFile(pfile, '\nsecond line\n')
    const cases: Array<[string[], RegExp, Record<string, string>?]> = [
      [['key'], /Usage: swarmbus key <command>/],
      [['key', 'frob'], /unknown key command 'frob'/],
      [['key', 'gen', '--repo', repo], /swarmbus key gen: missing the key NAME/],
      [['key', 'gen', 'k'], /missing --repo DIR/],
      [['key', 'gen', 'k', '--repo', repo, '--passphrase', 'hunter2'], /--passphrase is not accepted: .*SWARMBUS_PASSPHRASE or use --passphrase-file/],
      [['key', 'export', 'k', '--repo', repo, '--export-passphrase=x'], /--export-passphrase is not accepted/],
      [['key', 'gen', 'k', '--repo', repo, '--type', 'dsa'], /--type must be one of Ed25519, RSA, secp256k1, ECDSA/],
      [['key', 'gen', 'k', '--repo', repo, '--bits', '2048'], /--bits is for RSA keys only/],
      [['key', 'gen', 'k', '--repo', repo, '--type', 'RSA', '--bits', '1024'], /--bits must be one of 2048, 3072, 4096/],
      [['key', 'gen', 'k', '--repo', repo], /SWARMBUS_PASSPHRASE is set but empty/, { SWARMBUS_PASSPHRASE: '' }],
      [['key', 'gen', 'k', '--repo', repo, '--passphrase-file', pfile], /the first line of .* is empty/],
      [['key', 'gen', 'k', '--repo', repo, '--passphrase-file', join(dir, 'nope')], /--passphrase-file: cannot read .*ENOENT/],
      [['key', 'export', 'k', '--repo', repo], /an export passphrase is needed: set SWARMBUS_EXPORT_PASSPHRASE/],
      [['key', 'import', '--repo', repo], /missing the key NAME and the export FILE/],
      [['key', 'import', 'k', '--repo', repo], /missing the export FILE \(or - for stdin\)/],
      [['key', 'rename', 'a', '--repo', repo], /missing the NEW name/],
      [['key', 'list', 'extra', '--repo', repo], /unexpected argument: 'extra'/]
    ]
    const runs = await Promise.all(cases.map(async ([args, , env]) => await cli(args, env)))
    cases.forEach(([args, message], i) => {
      const r = runs[i] as CliRun
      expect(r.code, args.join(' ')).toBe(2)
      expect(r.stderr, args.join(' ')).toMatch(message)
    })
    expect(runs[2]?.stderr).toContain("Run 'swarmbus key gen --help' for usage.")
    expect(existsSync(repo)).toBe(false) // nothing was opened

    const helps = await Promise.all(['gen', 'list', 'rename', 'rm', 'export', 'import'].map(async sub => await cli(['key', sub, '--help'])))
    helps.forEach((r, i) => {
      expect(r.code).toBe(0)
      expect(r.stdout).toMatch(new RegExp(`^Usage: swarmbus key ${['gen', 'list', 'rename', 'rm', 'export', 'import'][i] ?? ''}`))
    })
  })

  it.concurrent('gen, list, rename, export, rm, import: a round trip', async ({ expect }) => {
    const repo = join(dir, 'round-trip')
    const passFile = join(dir, 'pass.txt')
    await writeFile(passFile, `${PASS.SWARMBUS_PASSPHRASE}\r\nignored second line\n`)

    // the passphrase from a file (first line, CRLF stripped) or from the env is the same passphrase
    const k1 = await cli(['key', 'gen', 'k1', '--repo', repo, '--passphrase-file', passFile, '--json'])
    expect(k1.code, k1.stderr).toBe(0)
    const info1 = JSON.parse(k1.stdout) as KeyInfo
    expect(info1).toMatchObject({ name: 'k1', type: 'Ed25519' })
    expect(info1.peerId).toMatch(/^12D3KooW/)
    expect(info1.ipnsName).toMatch(/^k51/)

    const renamed = await cli(['key', 'rename', 'k1', 'k9', '--repo', repo, '--json'], PASS)
    expect(renamed.code, renamed.stderr).toBe(0)
    expect(JSON.parse(renamed.stdout)).toEqual({ from: 'k1', ...info1, name: 'k9' })

    const out = join(dir, 'k9.key')
    await writeFile(out, 'old contents', { mode: 0o644 }) // overwritten, and made private
    const exported = await cli(['key', 'export', 'k9', '--repo', repo, '--out', out], { ...PASS, ...EXPORT })
    expect(exported.code, exported.stderr).toBe(0)
    expect(exported.stdout).toContain(`wrote key 'k9' (Ed25519, peer id ${info1.peerId}) to ${out}`)
    expect((await stat(out)).mode & 0o777).toBe(0o600)
    const doc = JSON.parse(await readFile(out, 'utf8')) as Record<string, unknown>
    expect(doc).toMatchObject({ format: 'swarmbus-key', version: 1, keyType: 'Ed25519', peerId: info1.peerId, kdf: { name: 'scrypt', N: 32768, r: 8, p: 1 }, sealed: { cipher: 'aes-256-gcm' } })
    expect(JSON.stringify(doc)).not.toContain(PASS.SWARMBUS_PASSPHRASE)

    const removed = await cli(['key', 'rm', 'k9', '--repo', repo], PASS)
    expect(removed.code, removed.stderr).toBe(0)
    expect(removed.stdout).toBe(`removed 'k9' (Ed25519, peer id ${info1.peerId})\n`)
    const again = await cli(['key', 'rm', 'k9', '--repo', repo], PASS)
    expect(again.code).toBe(1)
    expect(again.stderr).toBe("swarmbus key rm: NotFoundError: no key named 'k9'\n")

    const badExport = await cli(['key', 'import', 'k9', out, '--repo', repo], { ...PASS, SWARMBUS_EXPORT_PASSPHRASE: 'not it' })
    expect(badExport.code).toBe(1)
    expect(badExport.stderr).toMatch(/^swarmbus key import: InvalidCommandError: wrong passphrase/)

    const exportFile = join(dir, 'export-pass.txt')
    await writeFile(exportFile, `${EXPORT.SWARMBUS_EXPORT_PASSPHRASE}\n`)
    const imported = await cli(['key', 'import', 'k9', out, '--repo', repo, '--export-passphrase-file', exportFile, '--json'], PASS)
    expect(imported.code, imported.stderr).toBe(0)
    expect(JSON.parse(imported.stdout)).toEqual({ ...info1, name: 'k9' })

    // locked (no passphrase): names still list
    const listed = await cli(['key', 'list', '--repo', repo, '--json'])
    expect(listed.code, listed.stderr).toBe(0)
    const { keys } = JSON.parse(listed.stdout) as { keys: KeyInfo[] }
    expect(keys.map(k => k.name)).toEqual(['self', 'k9'])
    expect(keys[1]?.peerId).toBe(info1.peerId)
    expect(keys[0]?.ipnsName).toMatch(/^k51/)
  })

  it.concurrent('an RSA key exported to stdout and imported from stdin', async ({ expect }) => {
    const repo = join(dir, 'rsa')
    const rsa = await cli(['key', 'gen', 'r1', '--type', 'rsa', '--bits', '2048', '--repo', repo], PASS)
    expect(rsa.code, rsa.stderr).toBe(0)
    expect(rsa.stdout).toMatch(/^name {7}r1\ntype {7}RSA\npeer id {4}Qm\w+\nIPNS name {2}k\w+\n$/)

    // to stdout: the document itself
    const rsaDoc = await cli(['key', 'export', 'r1', '--repo', repo], { ...PASS, ...EXPORT })
    expect(rsaDoc.code, rsaDoc.stderr).toBe(0)
    expect(JSON.parse(rsaDoc.stdout)).toMatchObject({ format: 'swarmbus-key', keyType: 'RSA' })

    // from stdin, under another name: the same key twice is allowed
    const fromStdin = await cli(['key', 'import', 'r2', '-', '--repo', repo], { ...PASS, ...EXPORT }, rsaDoc.stdout)
    expect(fromStdin.code, fromStdin.stderr).toBe(0)
    expect(fromStdin.stdout).toMatch(/^imported key 'r2'\nname {7}r2\ntype {7}RSA/)

    const listed = await cli(['key', 'list', '--repo', repo])
    expect(listed.code, listed.stderr).toBe(0)
    const rows = listed.stdout.split('\n').slice(2, -1).map(l => l.split(/\s+/))
    expect(rows.map(r => r[0])).toEqual(['self', 'r1', 'r2'])
    expect(rows[1]?.[2]).toMatch(/^Qm/)
    expect(rows[1]?.[2]).toBe(rows[2]?.[2])
    expect(rows[1]?.[3]).toMatch(/^k2k4r8/)
  })

  it.concurrent('a locked keystore lists but does not generate; a wrong passphrase is refused', async ({ expect }) => {
    const repo = join(dir, 'locked')
    const fresh = await cli(['key', 'list', '--repo', repo])
    expect(fresh.code, fresh.stderr).toBe(0)
    expect(fresh.stdout).toMatch(/^name\s+type\s+peer id\s+IPNS name\n─+/)
    expect(fresh.stdout).toMatch(/\nself\s+Ed25519\s+12D3KooW\w+\s+k51\w+\n$/)

    const locked = await cli(['key', 'gen', 'k1', '--repo', repo, '--json'])
    expect(locked.code).toBe(1)
    expect(locked.stderr).toMatch(/^swarmbus key gen: InvalidCommandError: the keystore is locked: .*\(field: passphrase\)\n/)
    expect(locked.stderr).toContain('hint: the keystore is locked without a passphrase; set SWARMBUS_PASSPHRASE or use --passphrase-file FILE')
    expect(JSON.parse(locked.stdout)).toMatchObject({ ok: false, error: expect.stringMatching(/^InvalidCommandError: the keystore is locked/) })

    const made = await cli(['key', 'gen', 'k1', '--repo', repo, '--type', 'secp256k1', '--json'], PASS)
    expect(made.code, made.stderr).toBe(0)
    expect(JSON.parse(made.stdout)).toMatchObject({ name: 'k1', type: 'secp256k1' })

    const wrong = await cli(['key', 'gen', 'k2', '--repo', repo], { SWARMBUS_PASSPHRASE: 'wrong' })
    expect(wrong.code).toBe(1)
    expect(wrong.stderr).toBe('swarmbus key gen: InvalidCommandError: wrong passphrase (or the data was altered) (field: passphrase)\n')
    expect(wrong.stdout).toBe('')

    const taken = await cli(['key', 'gen', 'k1', '--repo', repo], PASS)
    expect(taken.code).toBe(1)
    expect(taken.stderr).toMatch(/InvalidCommandError: a key named 'k1' already exists/)

    const self = await cli(['key', 'rm', 'self', '--repo', repo])
    expect(self.code).toBe(1)
    expect(self.stderr).toMatch(/InvalidCommandError: the node's own key 'self' cannot be removed/)

    const list = await cli(['key', 'list', '--repo', repo, '--json'])
    expect((JSON.parse(list.stdout) as { keys: KeyInfo[] }).keys.map(k => `${k.name}:${k.type}`)).toEqual(['self:Ed25519', 'k1:secp256k1'])
  })
})
