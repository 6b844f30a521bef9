// Entry of the portable bundle (scripts/bundle.mjs): the commands for oclif's
// explicit strategy and the CLI entry point, in one file.
export {COMMANDS} from './commands/index.js'
export {main} from './cli/main.js'
