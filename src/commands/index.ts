// oclif's explicit command list: one import per command, no directory scan at start-up
// (fast --help, and the portable bundle needs no file layout).
import AuditStreams from './audit-streams.js'
import BackendBench from './backend/bench.js'
import Env from './env.js'
import Load from './load.js'
import Profiles from './profiles.js'
import Save from './save.js'

export const COMMANDS = {'audit-streams': AuditStreams, 'backend:bench': BackendBench, env: Env, load: Load, profiles: Profiles, save: Save}
