// Ranks from the launcher's environment (torchrun, Open MPI, Slurm), --output with {rank}, and
// `kvbench merge`: one result of a run's ranks, every way files that are not one run are refused.
import assert from 'node:assert/strict'
import {existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync} from 'node:fs'
import {hostname, tmpdir} from 'node:os'
import {join} from 'node:path'
import {after, test} from 'node:test'

import {launcherWorld, outputForRank} from '../dist/core/launch/world.js'
import {kvbench, kvbenchJson, ROOT} from './helpers/cli.mjs'
import {assertSchema} from './helpers/schema.mjs'

const tmp = mkdtempSync(join(tmpdir(), 'kvbench-merge-'))
after(() => rmSync(tmp, {recursive: true, force: true}))
const F = (name) => join(ROOT, 'test/fixtures/results', name)

const torchrun = (rank, size, extra = {}) => ({RANK: String(rank), WORLD_SIZE: String(size), LOCAL_RANK: String(rank % 2), LOCAL_WORLD_SIZE: '2', TORCHELASTIC_RUN_ID: 'job-7', ...extra})

test('each launcher: rank, world, local rank and run id from its own variables', () => {
  assert.equal(launcherWorld({}), null)
  assert.deepEqual(launcherWorld(torchrun(3, 4)), {launcher: 'torchrun', rank: 3, size: 4, localRank: 1, localSize: 2, runId: 'job-7', host: hostname()})
  const mpi = launcherWorld({OMPI_COMM_WORLD_RANK: '5', OMPI_COMM_WORLD_SIZE: '8', OMPI_COMM_WORLD_LOCAL_RANK: '1', OMPI_COMM_WORLD_LOCAL_SIZE: '4', PMIX_NAMESPACE: 'prterun-h-123@1'})
  assert.deepEqual([mpi.launcher, mpi.rank, mpi.size, mpi.localRank, mpi.localSize, mpi.runId], ['openmpi', 5, 8, 1, 4, 'prterun-h-123@1'])
  const slurm = launcherWorld({SLURM_PROCID: '6', SLURM_NTASKS: '8', SLURM_LOCALID: '2', SLURM_NTASKS_PER_NODE: '4(x2)', SLURM_JOB_ID: '991', SLURM_STEP_ID: '0'})
  assert.deepEqual([slurm.launcher, slurm.rank, slurm.size, slurm.localRank, slurm.localSize, slurm.runId], ['slurm', 6, 8, 2, 4, '991.0'])
  // A batch script's own shell is not a rank: Slurm counts only inside a job step (srun).
  assert.equal(launcherWorld({SLURM_PROCID: '0', SLURM_NTASKS: '8', SLURM_JOB_ID: '991'}), null)
  // srun starting torchrun: the workers are torchrun's ranks.
  const nested = launcherWorld({...torchrun(1, 4), SLURM_PROCID: '0', SLURM_NTASKS: '2', SLURM_LOCALID: '0', SLURM_STEP_ID: '0', SLURM_JOB_ID: '5'})
  assert.deepEqual([nested.launcher, nested.rank, nested.size], ['torchrun', 1, 4])
  // Kubernetes' PyTorchJob: RANK and WORLD_SIZE only.
  assert.deepEqual([launcherWorld({RANK: '2', WORLD_SIZE: '4'}).localRank, launcherWorld({RANK: '2', WORLD_SIZE: '4'}).runId], [0, null])
  // A per-host count in a form not read is unknown, not an error.
  assert.equal(launcherWorld({SLURM_PROCID: '0', SLURM_NTASKS: '6', SLURM_LOCALID: '0', SLURM_NTASKS_PER_NODE: '2,4', SLURM_STEP_ID: '1'}).localSize, null)
})

test('launcher variables that cannot be a rank are refused, naming the variable', () => {
  const refused = (env, pattern) => assert.throws(() => launcherWorld(env), (e) => e.exit === 2 && pattern.test(e.message), JSON.stringify(env))
  refused({WORLD_SIZE: '4', LOCAL_RANK: '0'}, /torchrun environment: RANK is not set/)
  refused({...torchrun(0, 4), RANK: 'one'}, /RANK="one" is not a whole number/)
  refused({...torchrun(0, 4), RANK: '-1'}, /RANK="-1" is not a whole number/)
  refused(torchrun(4, 4), /RANK=4 is outside WORLD_SIZE=4 \(ranks 0 to 3\)/)
  refused({...torchrun(0, 4), WORLD_SIZE: '0'}, /WORLD_SIZE=0: a world needs one rank or more/)
  refused({...torchrun(1, 4), LOCAL_RANK: '3'}, /LOCAL_RANK=3 is outside LOCAL_WORLD_SIZE=2/)
  refused({...torchrun(1, 4), LOCAL_RANK: 'first'}, /LOCAL_RANK="first" is not a whole number/)
  refused({OMPI_COMM_WORLD_RANK: '1'}, /openmpi environment: OMPI_COMM_WORLD_SIZE is not set/)
  refused({SLURM_STEP_ID: '0', SLURM_PROCID: '2', SLURM_NTASKS: 'x'}, /slurm environment: SLURM_NTASKS="x" is not a whole number/)
})

test('--output: {rank} is the rank (0 outside a launcher); several ranks and one file name are refused', () => {
  assert.equal(outputForRank('save-{rank}.json', null), 'save-0.json')
  assert.equal(outputForRank('r{rank}/save-{rank}.json', launcherWorld(torchrun(3, 4))), 'r3/save-3.json')
  assert.equal(outputForRank('save.json', launcherWorld(torchrun(0, 1))), 'save.json')
  assert.throws(() => outputForRank('save.json', launcherWorld(torchrun(0, 4))), /--output save\.json: the 4 ranks of this torchrun run would all write that one file; put \{rank\} in the name/)

  // Through the CLI: the envelope carries run.world, the file is the rank's own.
  const out = join(tmp, 'profiles-{rank}.json')
  const r = kvbench(['profiles', '-q', '-o', out], {env: torchrun(1, 2)})
  assert.equal(r.code, 0, r.stderr)
  const e = JSON.parse(readFileSync(join(tmp, 'profiles-1.json'), 'utf8'))
  assert.deepEqual(e.run.world, {launcher: 'torchrun', rank: 1, size: 2, localRank: 1, localSize: 2, runId: 'job-7', host: hostname()})
  assertSchema('profiles.schema.json', e)
  const plain = kvbenchJson(['profiles'])
  assert.equal(plain.json.run.world, null)

  const same = kvbench(['profiles', '-o', join(tmp, 'one.json')], {env: torchrun(0, 2)})
  assert.equal(same.code, 2)
  assert.match(same.stderr, /the 2 ranks of this torchrun run would all write that one file; put \{rank\} in the name/)
  assert.equal(existsSync(join(tmp, 'one.json')), false)
  const bad = kvbench(['profiles'], {env: {WORLD_SIZE: '2', RANK: 'x', LOCAL_RANK: '0'}})
  assert.equal(bad.code, 2)
  assert.match(bad.stderr, /RANK="x" is not a whole number/)
})

/** A GPU result as rank `rank` of a world: the fixture with run.world set (and figures edited). */
function asRank(name, rank, size, {runId = 'job-7', host = `gpu-node-${Math.floor(rank / 2)}`, edit = () => {}} = {}) {
  const j = JSON.parse(readFileSync(F(name), 'utf8'))
  j.run.world = {launcher: 'torchrun', rank, size, localRank: rank % 2, localSize: 2, runId, host}
  edit(j)
  const p = join(tmp, `${name}-${rank}-${Math.random().toString(36).slice(2)}.json`)
  writeFileSync(p, JSON.stringify(j))
  return p
}
const asyncDesign = (j) => j.results.designs.find((d) => d.design === 'async')

test('merge: a row per host and rank, the worst rank of each figure, the total the connectors moved at once', () => {
  const files = [0, 1, 2, 3].map((rank) =>
    asRank('save-async-h200-1.json', rank, 4, {
      edit: (j) => {
        asyncDesign(j).slowdownPct = 1 + rank  // rank 3 is the one each step waits for
        asyncDesign(j).transfer.gbps = 50 + rank
      },
    }),
  )
  const r = kvbenchJson(['merge', ...files.reverse()])
  assert.equal(r.code, 0, r.stderr)
  assertSchema('merge.schema.json', r.json)
  const m = r.json.results
  assert.deepEqual([m.kind, m.launcher, m.worldSize, m.runId, m.hosts, m.partial], ['save', 'torchrun', 4, 'job-7', 2, false])
  assert.deepEqual(m.ranks.map((k) => [k.rank, k.host, k.localRank, k.status]), [[0, 'gpu-node-0', 0, 'complete'], [1, 'gpu-node-0', 1, 'complete'], [2, 'gpu-node-1', 0, 'complete'], [3, 'gpu-node-1', 1, 'complete']])
  const fig = (suffix) => m.figures.find((f) => f.name.endsWith(suffix))
  const slow = fig('/async/staged/slowdown_pct')
  assert.deepEqual([slow.values, slow.worstRank, slow.min, slow.max, slow.total], [[1, 2, 3, 4], 3, 1, 4, null])
  const moved = fig('/async/staged/moved_gbps')
  assert.deepEqual([moved.worstRank, moved.total], [0, 50 + 51 + 52 + 53])
  assert.equal(fig('/alone/staged/save_gbps').total, null)  // each rank alone: no sum
  // The human view: the ranks, then the figures with their worst rank.
  const t = kvbench(['merge', ...files])
  assert.equal(t.code, 0)
  assert.match(t.stdout, /kvbench merge save: 4 ranks on 2 hosts \(torchrun, run job-7\)/)
  assert.match(t.stdout, /slowdown_pct\s*│\s*4\.00% \(rank 3\)/)
  assert.match(t.stdout, /moved_gbps\s*│[^│]*│[^│]*│[^│]*│\s*206\.\d+ GB\/s/)
})

test('merge: a rank that ended in an error is kept, the merge is partial and exits 1', () => {
  const ok = asRank('save-async-h200-1.json', 0, 2)
  const dead = asRank('save-async-h200-1.json', 1, 2, {
    edit: (j) => {
      j.status = 'error'
      j.results = null
      j.error = {code: 'CUDA_ERROR', message: 'cudaStreamSynchronize: an illegal memory access was encountered', exitCode: 1}
    },
  })
  const out = join(tmp, 'merged.json')
  const r = kvbenchJson(['merge', ok, dead, '-o', out])
  assert.equal(r.code, 1)
  assert.equal(r.json.status, 'partial')
  assert.equal(r.json.results.partial, true)
  assert.equal(r.json.results.ranks[1].error, 'cudaStreamSynchronize: an illegal memory access was encountered')
  assert.ok(r.json.results.figures.every((f) => f.values[1] === null))
  assertSchema('merge.schema.json', JSON.parse(readFileSync(out, 'utf8')))
})

test('merge refuses files that are not one run of ranks: one line naming them, exit 2', () => {
  const refused = (args, pattern) => {
    const r = kvbench(['merge', ...args])
    assert.equal(r.code, 2, r.stdout + r.stderr)
    assert.match(r.stderr, pattern)
    assert.equal(r.stderr.trim().split('\n').length, 1, r.stderr)
  }
  const r0 = asRank('save-async-h200-1.json', 0, 2)
  refused([], /merge needs the result files of every rank/)
  refused([r0, F('save-async-h200-2.json')], /has no run\.world: it was not run under a launcher/)
  refused([r0, asRank('load-h200.json', 1, 2)], /are save and load results/)
  refused([r0, asRank('save-async-h200-1.json', 1, 2, {runId: 'job-8'})], /come from different runs \(run id job-7 vs job-8\)/)
  refused([r0, asRank('save-async-h200-1.json', 1, 3)], /come from worlds of 2 and 3 ranks/)
  refused([r0, asRank('save-async-h200-1.json', 0, 2)], /are both rank 0/)
  refused([r0], /rank 1 of the 2 of this torchrun run has no file among the 1 given/)
  refused([r0, asRank('save-async-h200-1.json', 1, 2, {edit: (j) => (j.results.workload.steps = 100)})], /ran different benchmarks: workload\.steps 200 vs 100/)
  refused([r0, join(tmp, 'absent.json')], /RESULT .*absent\.json does not exist/)
})

test('ranks of a real run (backend bench under a torchrun environment) merge into one result', () => {
  const files = [0, 1].map((rank) => {
    const out = join(tmp, `bench-{rank}.json`)
    const r = kvbench(['backend', 'bench', '--backend', 'host', '--mib', '4', '--profile', 'llama-3.2-1b', '-q', '-o', out], {env: torchrun(rank, 2, {TORCHELASTIC_RUN_ID: 'bench-1'})})
    assert.equal(r.code, 0, r.stderr)
    return join(tmp, `bench-${rank}.json`)
  })
  const r = kvbenchJson(['merge', ...files])
  assert.equal(r.code, 0, r.stderr)
  assert.deepEqual([r.json.results.kind, r.json.results.worldSize, r.json.results.runId], ['backend-bench', 2, 'bench-1'])
  assert.ok(r.json.results.figures.length > 0 && r.json.results.figures.every((f) => f.values.every((v) => v !== null)))
})

test('a merged result goes to compare and export like a single one: merge/worst/... and merge/total/...', () => {
  const run = (gbps, id) => {
    const files = [0, 1].map((rank) => asRank('save-async-h200-1.json', rank, 2, {runId: id, edit: (j) => (asyncDesign(j).transfer.gbps = gbps + rank)}))
    const out = join(tmp, `merged-${id}.json`)
    assert.equal(kvbench(['merge', ...files, '-q', '-o', out]).code, 0)
    return out
  }
  const base = run(50, 'a')
  const csv = kvbench(['export', base, '--format', 'csv'])
  assert.equal(csv.code, 0, csv.stderr)
  assert.match(csv.stdout, /merge\/total\/save\/llama-3\.1-8b\/async\/staged\/moved_gbps,[^\n]*101/)
  assert.match(csv.stdout, /merge\/worst\/save\/llama-3\.1-8b\/async\/staged\/slowdown_pct/)
  const same = kvbenchJson(['compare', base, run(50, 'b')])
  assert.equal(same.code, 0, same.stderr)
  const worse = kvbenchJson(['compare', base, run(40, 'c')])
  assert.equal(worse.code, 1)
  assert.ok(worse.json.results.rows.some((r) => r.metric === 'merge/total/save/llama-3.1-8b/async/staged/moved_gbps' && r.verdict === 'regression'))
  const other = kvbench(['compare', base, asRank('save-async-h200-1.json', 0, 1)])
  assert.equal(other.code, 2)
})
