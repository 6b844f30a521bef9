// oclif's explicit command list: one import per command, no directory scan at start-up
// (fast --help, and the portable bundle needs no file layout).
import Env from './env.js'

export const COMMANDS = {env: Env}
