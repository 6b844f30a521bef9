import {KvCommand} from '../cli/kv-command.js'
import {listProfiles, type ProfileRow} from '../core/profiles-list.js'
import {makeTable} from '../cli/render/table.js'
import {formatBytes} from '../core/bytes.js'
import {stagingFor} from '../core/plan.js'

const RING_PLACE = {auto: 'L2 where it fits', persist: 'L2', normal: 'HBM'} as const

export default class Profiles extends KvCommand {
  static summary = 'List the model profiles with their KV sizes'
  static description = 'Every profile in profiles/ with KV bytes per token, per block (all layers) and per (layer, K or V, block) chunk.'
  static examples = ['<%= config.bin %> profiles', '<%= config.bin %> profiles --json', '<%= config.bin %> save --profile llama-3.1-70b', '<%= config.bin %> save --profile ./my-model.json   # your own, checked against schemas/profile.schema.json']
  protected readonly kind = 'profiles'

  async run() {
    await this.parse(Profiles)
    const rows: ProfileRow[] = listProfiles()
    if (this.humanView()) {
      const t = makeTable(['profile', 'layers', 'attention', 'block', 'layout', 'KV/token', 'KV/block', 'chunk', 'staging ring', 'workload'])
      for (const {profile: r, sizes} of rows) {
        const a = r.attention.kind === 'gqa' ? `GQA ${r.attention.queryHeads}q/${r.attention.kvHeads}kv x ${r.attention.headDim}` : `MLA latent ${r.attention.latentDim}`
        const w = r.workload
        const ring = stagingFor(r, {})
        t.push([r.name, String(r.layers), a, String(r.blockSize), r.layout, formatBytes(sizes.kvBytesPerToken), formatBytes(sizes.kvBytesPerBlock), formatBytes(sizes.chunkBytes), `${ring.mib} MiB, ${RING_PLACE[ring.l2]}`, `batch ${w.batch}, ${w.promptTokens} tokens, ${w.decodeSteps} steps, hit ${w.prefixHitRate}${w.transferSequences ? `, ${w.transferSequences} sequences transferred` : ''}`])
      }
      this.log(t.toString())
    }
    return this.envelope({profiles: rows})
  }
}
