// The addon's ABI number, written once: binding.gyp compiles it into the addon (scripts/addon-abi.cjs
// reads it here), and loadAddon refuses an addon built with another. Raise it with every change
// to an operation's plan or result fields.
export const ADDON_ABI = 26
