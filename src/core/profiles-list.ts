import {deriveSizes, listProfileNames, loadProfile, type DerivedSizes, type Profile} from './profile.js'

export type ProfileRow = Profile & {derived: DerivedSizes}

export function listProfiles(): ProfileRow[] {
  return listProfileNames().map((name) => {
    const p = loadProfile(name)
    return {...p, derived: deriveSizes(p)}
  })
}
