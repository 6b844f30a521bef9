// Credentials never reach output. One rule for every message, note, argv and spec shown: in
// anything URL-like, `user:password@` after `//` (any scheme, any spelling: REDIS://, redis//)
// or after `scheme:` becomes `user:***@`.
const USERINFO = /(\/\/|\b[A-Za-z][\w+.-]*:\/?)([^/@\s:]*):([^/@\s]+)@/g

export function maskSecrets(text: string): string {
  return text.replace(USERINFO, (_m, lead: string, user: string) => `${lead}${user}:***@`)
}

/** The password kvbench reads from the environment when a redis URL has none, as redis-cli does. */
export const REDIS_PASSWORD_ENV = 'REDISCLI_AUTH'
