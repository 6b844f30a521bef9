// The conventions of the CLIs kvbench's users know (issue 16, item 9): -h and `help COMMAND`,
// a mistyped command answered with the right one, an extra word named, --version with the build,
// and a command line that names no command still answered in JSON under --json.
import assert from 'node:assert/strict'
import {spawnSync} from 'node:child_process'
import {mkdtempSync, rmSync} from 'node:fs'
import {tmpdir} from 'node:os'
import {join} from 'node:path'
import {test} from 'node:test'

import {kvbench} from './helpers/cli.mjs'
import {assertSchema} from './helpers/schema.mjs'

test('-h and help [COMMAND] show the help', () => {
  for (const args of [['-h'], ['help'], ['--help']]) {
    const r = kvbench(args)
    assert.equal(r.code, 0, args.join(' '))
    assert.match(r.stdout, /^Benchmark and audit KV-cache connectors/)
  }
  const save = kvbench(['help', 'save'])
  assert.equal(save.code, 0)
  assert.match(save.stdout, /USAGE\n\s+\$ kvbench save/)
  assert.match(kvbench(['help', 'backend', 'bench']).stdout, /\$ kvbench backend bench/)
  assert.match(kvbench(['save', '-h']).stdout, /\$ kvbench save/)
})

test('a mistyped command suggests the right one, exit 2', () => {
  for (const [typed, meant] of [['sav', 'save'], ['comapre', 'compare'], ['backend bnch', 'backend bench'], ['audit-stream', 'audit-streams']]) {
    const r = kvbench(typed.split(' '))
    assert.equal(r.code, 2, typed)
    assert.match(r.stderr, new RegExp(`^Error: '${typed}' is not a kvbench command\\. Did you mean \`kvbench ${meant}\`\\?`))
  }
  const far = kvbench(['zzz'])
  assert.equal(far.code, 2)
  assert.doesNotMatch(far.stderr, /Did you mean/)
  assert.match(far.stderr, /kvbench --help lists them: audit-streams, autocomplete, backend bench, compare, env, export, load, merge, mix, plot, profiles, save, sweep/)
})

test('a word after a command that takes none is an unexpected argument', () => {
  const r = kvbench(['profiles', 'extra-arg'])
  assert.equal(r.code, 2)
  assert.equal(r.stderr, "Error: kvbench profiles: unexpected argument 'extra-arg' (see kvbench profiles --help)\n")
})

test('no command under --json: an error envelope on stdout, exit 2', () => {
  const r = kvbench(['sav', '--json'])
  assert.equal(r.code, 2)
  const j = JSON.parse(r.stdout)
  assertSchema('cli.schema.json', j)
  assert.equal(j.error.code, 'NOT_A_COMMAND')
})

test('--version and -v name the git commit and the CUDA build', () => {
  for (const flag of ['--version', '-v']) {
    const r = kvbench([flag])
    assert.equal(r.code, 0)
    assert.match(r.stdout, /^kvbench\/\d+\.\d+\.\d+ git [0-9a-f]{12}|unknown · (CUDA runtime \d+\.\d+ in the addon \(.+\)|built without CUDA|.+) · linux-x64 node-v20/)
  }
})

test('help descriptions are not broken mid-sentence at the source\'s line ends', async () => {
  const {prose} = await import('../dist/cli/prose.js')
  assert.equal(prose`one line
goes on.

Next paragraph
  an indented list line
  another`, 'one line goes on.\n\nNext paragraph\n  an indented list line\n  another')
  const {COMMANDS} = await import('../dist/commands/index.js')
  for (const [id, cmd] of Object.entries(COMMANDS)) {
    for (const paragraph of String(cmd.description ?? '').split('\n\n')) {
      // a paragraph is one line, or a list whose lines are indented
      assert.ok(!/[^\n]\n(?! {2})[^\n]/.test(paragraph.split('\n  ')[0]), `${id}: ${paragraph.slice(0, 60)}`)
    }
  }
})

test('--quiet / -q: nothing but errors; the exit code and --output still say how it went', () => {
  const q = kvbench(['profiles', '-q'])
  assert.equal(q.code, 0)
  assert.equal(q.stdout, '')
  const gate = kvbench(['backend', 'bench', '--backend', 'host', '--mib', '1', '--quiet', '--min-put-gbps', '100000'])
  assert.equal(gate.code, 1)
  assert.equal(gate.stdout, '')
  const bad = kvbench(['backend', 'bench', '--backend', 'file:', '-q'])
  assert.equal(bad.code, 2)
  assert.match(bad.stderr, /^Error: --backend file: needs the directory/)
  assert.match(kvbench(['profiles', '-q', '--json']).stdout, /"kind": "profiles"/)  // --json still prints its JSON
})

test('shell completion: the generated bash function completes commands, topics and flags', () => {
  const cache = mkdtempSync(join(tmpdir(), 'kvbench-ac-'))
  try {
    const r = kvbench(['autocomplete', 'bash'], {env: {XDG_CACHE_HOME: cache}})
    assert.equal(r.code, 0, r.stderr)
    assert.match(r.stdout, /kvbench autocomplete script bash/)
    const setup = kvbench(['autocomplete', 'script', 'bash'], {env: {XDG_CACHE_HOME: cache}}).stdout.trim()
    // what ~/.bashrc would run, then a TAB on each partial line
    const complete = (...words) => {
      const script = `${setup.replace(/ # kvbench autocomplete setup$/, '')}\nCOMP_WORDS=(kvbench ${words.map((w) => `'${w}'`).join(' ')}); COMP_CWORD=${words.length}; _kvbench_autocomplete; echo "\${COMPREPLY[*]}"`
      const b = spawnSync('bash', ['-c', script], {encoding: 'utf8'})
      assert.equal(b.status, 0, b.stderr)
      return b.stdout.trim().split(' ')
    }
    assert.deepEqual(complete('ba'), ['backend'])
    assert.deepEqual(complete('backend', ''), ['bench'])
    assert.ok(complete('backend', 'bench', '--mi').includes('--mib'))
    const top = complete('')
    for (const c of ['audit-streams', 'env', 'save', 'load', 'compare', 'export', 'profiles', 'autocomplete']) assert.ok(top.includes(c), c)
    assert.ok(complete('save', '--conn').includes('--connector'))
  } finally {
    rmSync(cache, {recursive: true, force: true})
  }
})
