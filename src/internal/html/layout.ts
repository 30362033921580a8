/**
 * The graph's layout, computed in Node by `@dagrejs/dagre` (a kept,
 * widely used Sugiyama-style layered layout: ranks, crossing reduction,
 * coordinates, edge routes and label positions). It is loaded with a
 * dynamic `import()` the first time a page is drawn, so the core entry
 * never loads it.
 *
 * @internal
 */
import type { EdgeLabel, GraphLabel, NodeLabel } from "@dagrejs/dagre"
import type { PageData } from "./data.js"

/** The dagre module. */
export type Dagre = typeof import("@dagrejs/dagre")

let loaded: Promise<Dagre> | undefined

/** Loads dagre once. */
export const load = (): Promise<Dagre> => (loaded ??= import("@dagrejs/dagre"))

/** @internal */
export interface Point {
  readonly x: number
  readonly y: number
}

/** @internal */
export interface NodeBox {
  /** centre */
  readonly x: number
  readonly y: number
  readonly width: number
  readonly height: number
  /** the name as drawn (cut when too long) */
  readonly label: string
}

/** @internal */
export interface EdgeRoute {
  readonly points: ReadonlyArray<Point>
  /** where the tag label goes (data edges) */
  readonly label: Point | undefined
}

/** @internal */
export interface GraphLayout {
  readonly width: number
  readonly height: number
  readonly nodes: ReadonlyArray<NodeBox>
  readonly edges: ReadonlyArray<EdgeRoute>
}

/** Approximate text widths for the page's sans-serif font (no canvas in Node). */
const CHAR = 7.4
const TAG_CHAR = 6.4
export const NODE_HEIGHT = 48
const MAX_CHARS = 34

export const cut = (text: string, max: number): string => (text.length <= max ? text : `${text.slice(0, max - 1)}…`)

/** About the width the page gives the drawing; wider drawings are scaled down to fit. */
const PANEL = 900

/**
 * Lays out a page's graph left to right, or top to bottom when that keeps
 * it readable (a long chain drawn left to right would be scaled down until
 * its labels cannot be read).
 */
export const layout = (dagre: Dagre, data: PageData): GraphLayout => {
  const lr = layoutIn(dagre, data, "LR")
  if (lr.width <= PANEL) return lr
  const tb = layoutIn(dagre, data, "TB")
  return Math.min(1, PANEL / tb.width) > Math.min(1, PANEL / lr.width) * 1.25 ? tb : lr
}

const layoutIn = (dagre: Dagre, data: PageData, rankdir: "LR" | "TB"): GraphLayout => {
  const g = new dagre.graphlib.Graph<GraphLabel, NodeLabel, EdgeLabel>({ multigraph: true })
  g.setGraph({ rankdir, nodesep: rankdir === "LR" ? 26 : 40, ranksep: rankdir === "LR" ? 70 : 56, edgesep: 14, marginx: 16, marginy: 16 })
  g.setDefaultEdgeLabel(() => ({}))
  const labels = data.tasks.map((t) => cut(t.name, MAX_CHARS))
  data.tasks.forEach((t, i) => {
    const label = labels[i]!
    const sub = 22 // "timed out · 12.3 s"
    g.setNode(String(i), { width: Math.max(128, 28 + CHAR * Math.max(label.length, sub)), height: NODE_HEIGHT })
  })
  data.edges.forEach((e, k) => {
    const config = e.tag === null
      ? { minlen: 1, weight: 1 }
      : { minlen: 1, weight: 2, width: 12 + TAG_CHAR * cut(e.tag, 28).length, height: 18, labelpos: "c" as const }
    g.setEdge(String(e.from), String(e.to), config, String(k))
  })
  dagre.layout(g)
  const nodes = data.tasks.map((_, i): NodeBox => {
    const n = g.node(String(i))
    return { x: n.x ?? 0, y: n.y ?? 0, width: n.width, height: n.height, label: labels[i]! }
  })
  const edges = data.edges.map((e, k): EdgeRoute => {
    const route = g.edge({ v: String(e.from), w: String(e.to), name: String(k) })
    const points = (route?.points ?? []).map((p: Point) => ({ x: p.x, y: p.y }))
    const label = e.tag !== null && route?.x !== undefined && route.y !== undefined ? { x: route.x, y: route.y } : undefined
    return { points, label }
  })
  const graph = g.graph()
  return { width: graph.width ?? 0, height: graph.height ?? 0, nodes, edges }
}
