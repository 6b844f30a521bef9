// A Vega-Lite spec drawn headless: vega-lite compiles it, vega renders the scene to SVG (no
// browser, no canvas), and resvg rasterises that SVG to PNG with the system's fonts.
import {KvError} from '../errors.js'

export async function renderSvg(vegaLite: Record<string, unknown>): Promise<string> {
  const [{compile}, vega] = await Promise.all([import('vega-lite'), import('vega')])
  // eslint-disable-next-line @typescript-eslint/no-explicit-any -- vega-lite's TopLevelSpec is a deep union; ours is built to it
  const {spec} = compile(vegaLite as any)
  const view = new vega.View(vega.parse(spec), {renderer: 'none'})
  try {
    return await view.toSVG()
  } finally {
    view.finalize()
  }
}

/** PNG at `scale` times the SVG's size. resvg is a prebuilt native package: say so where it is missing. */
export async function renderPng(svg: string, scale = 2): Promise<Buffer> {
  let Resvg: typeof import('@resvg/resvg-js').Resvg
  try {
    ;({Resvg} = await import('@resvg/resvg-js'))
  } catch (error) {
    throw new KvError('NO_PNG_RENDERER', `PNG needs @resvg/resvg-js for ${process.platform}-${process.arch}, which did not load (${(error as Error).message.split('\n')[0]}); write .svg instead`, 2)
  }
  return new Resvg(svg, {font: {loadSystemFonts: true, defaultFontFamily: 'DejaVu Sans'}, fitTo: {mode: 'zoom', value: scale}, background: 'white'}).render().asPng()
}
