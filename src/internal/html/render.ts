/**
 * From page data to the HTML document: lays the graph out (dagre, loaded
 * on first use) unless it is drawn condensed, then fills the template.
 *
 * @internal
 */
import { Effect } from "effect"
import type { PageData } from "./data.js"
import type { Dagre } from "./layout.js"
import { layout, load } from "./layout.js"
import { page } from "./page.js"
import { condensedSvg, graphSvg } from "./svg.js"
import { timelineSvg } from "./timeline.js"

/** Above this many tasks the graph is drawn condensed (dagre takes ~1 s for 200 tasks here). */
export const DEFAULT_MAX_DRAWN = 150

/** The document, synchronously, with dagre already loaded (or not needed: condensed). */
export const renderSync = (data: PageData, dagre: Dagre | undefined): string => {
  const drawing = data.condensed || dagre === undefined ? condensedSvg(data) : graphSvg(data, layout(dagre, data))
  return page(data, drawing, timelineSvg(data))
}

/** Loads dagre when the drawing needs it. */
export const loadFor = (data: Pick<PageData, "condensed">): Effect.Effect<Dagre | undefined, Error> =>
  data.condensed
    ? Effect.succeed(undefined)
    : Effect.tryPromise({
      try: load,
      catch: (e) => new Error(`could not load @dagrejs/dagre (the graph layout of the HTML report): ${String(e)}`)
    })

/** The document. */
export const render = (data: PageData): Effect.Effect<string, Error> =>
  Effect.map(loadFor(data), (dagre) => renderSync(data, dagre))
