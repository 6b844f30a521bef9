import {deriveSizes, listProfileNames, loadProfile, type DerivedSizes, type Profile} from './profile.js'

export interface ProfileRow {
  profile: Profile
  sizes: DerivedSizes
}

export function listProfiles(): ProfileRow[] {
  return listProfileNames().map((name) => {
    const p = loadProfile(name)
    return {profile: p, sizes: deriveSizes(p)}
  })
}
