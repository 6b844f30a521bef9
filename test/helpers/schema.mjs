// Validates outputs against the published JSON Schemas in schemas/.
import {readFileSync, readdirSync} from 'node:fs'
import {join} from 'node:path'
import Ajv2020 from 'ajv/dist/2020.js'
import addFormats from 'ajv-formats'

import {ROOT} from './cli.mjs'

let ajv
function compiler() {
  if (ajv) return ajv
  ajv = new Ajv2020({allErrors: true, strict: true, strictRequired: false})
  addFormats(ajv)
  const dir = join(ROOT, 'schemas')
  for (const f of readdirSync(dir).filter((f) => f.endsWith('.schema.json'))) {
    ajv.addSchema(JSON.parse(readFileSync(join(dir, f), 'utf8')))
  }
  return ajv
}

/** Throws with every violation listed when `doc` does not match schemas/<name>. */
export function assertSchema(name, doc) {
  const validate = compiler().getSchema(`https://kvbench.dev/schemas/1/${name}`)
  if (!validate) throw new Error(`no schema ${name}`)
  if (!validate(doc)) {
    throw new Error(`${name}: ${validate.errors.map((e) => `${e.instancePath || '/'} ${e.message}`).join('; ')}`)
  }
}
