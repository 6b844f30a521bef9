// The figures tables of docs/benchmarks.md, from `kvbench save|load -o` envelopes:
//   node scripts/benchmarks-table.mjs RESULT.json...
// One row per run and design: the card, the build, the profile, the strategy alone (median group,
// % of the run's ceiling) and each design beside the forward (GB/s, % of the ceiling, forward
// slowdown on the GPU, host time blocked per step at p99), and the link reference.
import {readFileSync} from 'node:fs'

const f1 = (x) => (x === null || x === undefined ? '-' : Number(x).toFixed(1))
const us = (x) => (x === null || x === undefined ? '-' : x >= 1000 ? `${f1(x / 1000)} ms` : `${f1(x)} µs`)
const rows = [
  '| card | build | run | profile | strategy alone (% ceiling) | design | GB/s | % ceiling | slowdown | blocked/step p99 | link reference |',
  '| --- | --- | --- | --- | --- | --- | --- | --- | --- | --- | --- |',
]
for (const file of process.argv.slice(2)) {
  const j = JSON.parse(readFileSync(file, 'utf8'))
  if (j.kind !== 'save' && j.kind !== 'load') continue
  const r = j.results
  const mode = r.mode
  const card = j.environment?.gpus?.[0]?.name?.replace('NVIDIA ', '') ?? '?'
  const build = (j.tool?.gitSha ?? '').slice(0, 7)
  const best = r.strategies.find((s) => s.strategy === r.best?.[mode])
  const alone = best ? `${best.strategy} ${f1(best[mode].medianPctOfCeiling ?? best[mode].pctOfCeiling)}%` : '-'
  const ref = r.reference ? `${f1(r.reference.pctOfCeiling)}% at ${f1(r.reference.slowdownPct)}%` : '-'
  for (const d of r.designs.filter((x) => x.design !== 'off')) {
    rows.push(
      `| ${card} | ${build} | ${mode} | ${r.profile.name} | ${alone} | ${d.design}/${d.strategy} | ${f1(d.transfer?.gbps)} | ${f1(d.transfer?.pctOfCeiling)}% | ${f1(d.slowdownPct)}% | ${us(d.blockedPerStepUs?.p99)} | ${ref} |`,
    )
  }
}
process.stdout.write(rows.join('\n') + '\n')
