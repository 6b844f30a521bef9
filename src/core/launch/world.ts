// Which rank of which launcher run this process is, read from the environment the launcher
// people already use sets (torchrun, Open MPI's mpirun, Slurm's srun): no orchestrator of our own.
// Each rank writes its envelope (--output with {rank}); `kvbench merge` combines them.
import {hostname} from 'node:os'

import {badInput} from '../errors.js'

export type Launcher = 'torchrun' | 'openmpi' | 'slurm'

export interface World {
  launcher: Launcher
  rank: number
  size: number
  localRank: number
  /** Ranks on this host, where the launcher says. */
  localSize: number | null
  /** The launcher's id of the run (torchrun's rendezvous id, the MPI job, the Slurm job and step): one value on every rank. */
  runId: string | null
  host: string
}

interface LauncherVars {
  launcher: Launcher
  /** Present only under this launcher: it picks the launcher. */
  marker: string
  rank: string
  size: string
  localRank: string
  localSize: string
  runId: (env: NodeJS.ProcessEnv) => string | null
}

// The order matters where launchers nest: `srun torchrun ...` and `mpirun` inside a Slurm
// allocation leave Slurm's variables set, but the ranks kvbench runs as are torchrun's or MPI's.
// Slurm counts only inside a job step (srun sets SLURM_STEP_ID; a batch script's shell has
// SLURM_PROCID 0 of the whole allocation, which is not a rank kvbench runs as).
const LAUNCHERS: LauncherVars[] = [
  {
    launcher: 'torchrun',
    marker: 'WORLD_SIZE',  // torchrun, and what Kubernetes' PyTorchJob and torch.distributed's env:// set
    rank: 'RANK',
    size: 'WORLD_SIZE',
    localRank: 'LOCAL_RANK',
    localSize: 'LOCAL_WORLD_SIZE',
    runId: (env) => env.TORCHELASTIC_RUN_ID ?? null,  // torchrun's --rdzv-id
  },
  {
    launcher: 'openmpi',
    marker: 'OMPI_COMM_WORLD_RANK',
    rank: 'OMPI_COMM_WORLD_RANK',
    size: 'OMPI_COMM_WORLD_SIZE',
    localRank: 'OMPI_COMM_WORLD_LOCAL_RANK',
    localSize: 'OMPI_COMM_WORLD_LOCAL_SIZE',
    runId: (env) => env.PMIX_NAMESPACE ?? env.OMPI_MCA_ess_base_jobid ?? null,
  },
  {
    launcher: 'slurm',
    marker: 'SLURM_STEP_ID',
    rank: 'SLURM_PROCID',
    size: 'SLURM_NTASKS',
    localRank: 'SLURM_LOCALID',
    localSize: 'SLURM_NTASKS_PER_NODE',
    runId: (env) => (env.SLURM_JOB_ID ? `${env.SLURM_JOB_ID}.${env.SLURM_STEP_ID}` : null),
  },
]

function wholeNumber(env: NodeJS.ProcessEnv, name: string, launcher: Launcher, {required}: {required: boolean}): number | null {
  const raw = env[name]
  if (raw === undefined || raw === '') {
    if (required) throw badInput(`${launcher} environment: ${name} is not set (kvbench reads the rank and world from ${name} under ${launcher})`)
    return null
  }
  // Slurm writes SLURM_NTASKS_PER_NODE as "4" or "4(x2)" (4 tasks on each of 2 nodes).
  const perNode = name === 'SLURM_NTASKS_PER_NODE'
  const text = perNode ? raw.replace(/\(x\d+\)$/, '') : raw
  if (!/^\d+$/.test(text)) {
    if (perNode) return null  // a per-host count in a form we do not read (Slurm's "2,4(x3)"): unknown
    throw badInput(`${launcher} environment: ${name}=${JSON.stringify(raw)} is not a whole number`)
  }
  return Number(text)
}

/** The rank this process runs as, or null outside a launcher. A launcher's variables that contradict each other: one line naming them. */
export function launcherWorld(env: NodeJS.ProcessEnv = process.env): World | null {
  const vars = LAUNCHERS.find((l) => env[l.marker] !== undefined)
  if (!vars) return null
  const {launcher} = vars
  const rank = wholeNumber(env, vars.rank, launcher, {required: true}) as number
  const size = wholeNumber(env, vars.size, launcher, {required: true}) as number
  // Local rank 0 where the launcher does not say (Kubernetes' PyTorchJob sets only RANK and WORLD_SIZE).
  const localRank = wholeNumber(env, vars.localRank, launcher, {required: false}) ?? 0
  const localSize = wholeNumber(env, vars.localSize, launcher, {required: false})
  if (size < 1) throw badInput(`${launcher} environment: ${vars.size}=${size}: a world needs one rank or more`)
  if (rank >= size) throw badInput(`${launcher} environment: ${vars.rank}=${rank} is outside ${vars.size}=${size} (ranks 0 to ${size - 1})`)
  if (localSize !== null && localRank >= localSize) throw badInput(`${launcher} environment: ${vars.localRank}=${localRank} is outside ${vars.localSize}=${localSize}`)
  if (localRank > rank) throw badInput(`${launcher} environment: ${vars.localRank}=${localRank} is above ${vars.rank}=${rank}`)
  return {launcher, rank, size, localRank, localSize, runId: vars.runId(env), host: hostname()}
}

/** The GPU a rank uses when --device is not given: its local rank under a launcher (as torchrun's workers do), else 0. */
export function defaultDevice(env: NodeJS.ProcessEnv = process.env): number {
  return launcherWorld(env)?.localRank ?? 0
}

/** The placeholder --output expands to the rank, so every rank writes a file of its own. */
export const RANK_PLACEHOLDER = '{rank}'

/**
 * --output with {rank} replaced by this process's rank (0 outside a launcher). Under a world of
 * several ranks a name without {rank} would have every rank overwrite one file: refused.
 */
export function outputForRank(path: string, world: World | null, flag = '--output'): string {
  if (path.includes(RANK_PLACEHOLDER)) return path.split(RANK_PLACEHOLDER).join(String(world?.rank ?? 0))
  if (world && world.size > 1) throw badInput(`${flag} ${path}: the ${world.size} ranks of this ${world.launcher} run would all write that one file; put ${RANK_PLACEHOLDER} in the name (e.g. save-${RANK_PLACEHOLDER}.json)`)
  return path
}
