// oclif's explicit command list: one import per command, no directory scan at start-up
// (fast --help, and the portable bundle needs no file layout).
import AuditStreams from './audit-streams.js'
import BackendBench from './backend/bench.js'
import Compare from './compare.js'
import Env from './env.js'
import Export from './export.js'
import Load from './load.js'
import Profiles from './profiles.js'
import Save from './save.js'

export const COMMANDS = {'audit-streams': AuditStreams, 'backend:bench': BackendBench, compare: Compare, env: Env, export: Export, load: Load, profiles: Profiles, save: Save}
