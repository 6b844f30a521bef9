// oclif's explicit command list: one import per command, no directory scan at start-up
// (fast --help, and the portable bundle needs no file layout).
import Autocomplete from '../../node_modules/@oclif/plugin-autocomplete/lib/commands/autocomplete/index.js'
import AutocompleteCreate from '../../node_modules/@oclif/plugin-autocomplete/lib/commands/autocomplete/create.js'
import AutocompleteScript from '../../node_modules/@oclif/plugin-autocomplete/lib/commands/autocomplete/script.js'

import AuditStreams from './audit-streams.js'
import BackendBench from './backend/bench.js'
import Compare from './compare.js'
import Env from './env.js'
import Export from './export.js'
import Load from './load.js'
import Merge from './merge.js'
import Mix from './mix.js'
import Plot from './plot.js'
import Profiles from './profiles.js'
import Save from './save.js'
import Sweep from './sweep.js'

// Shell completion is @oclif/plugin-autocomplete's three commands, listed here because an explicit
// command list loads no plugins; its scripts are built from this same list. The package exports no
// entry for them (oclif loads a plugin's commands by file path), hence the paths into node_modules,
// the same from src/ and dist/.
export const COMMANDS = {
  'audit-streams': AuditStreams,
  autocomplete: Autocomplete,
  'autocomplete:create': AutocompleteCreate,
  'autocomplete:script': AutocompleteScript,
  'backend:bench': BackendBench,
  compare: Compare,
  env: Env,
  export: Export,
  load: Load,
  merge: Merge,
  mix: Mix,
  plot: Plot,
  profiles: Profiles,
  save: Save,
  sweep: Sweep,
}
