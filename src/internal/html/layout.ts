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

/** A graph run inside a task, as a box around its tasks (top-left corner). @internal */
export interface GroupBox {
  readonly x: number
  readonly y: number
  readonly width: number
  readonly height: number
  readonly label: string
  readonly sub: string
}

/** An edge of the drawing that is not one of the page's edges: "runs" (task to its group) or "from context". @internal */
export interface ExtraEdge {
  readonly from: number
  readonly to: number
  readonly points: ReadonlyArray<Point>
}

/** @internal */
export interface GraphLayout {
  readonly width: number
  readonly height: number
  readonly nodes: ReadonlyArray<NodeBox>
  readonly edges: ReadonlyArray<EdgeRoute>
  /** one per `PageData.groups` */
  readonly groups: ReadonlyArray<GroupBox>
  /** task → group it ran: `from` a task index, `to` a group index */
  readonly runs: ReadonlyArray<ExtraEdge>
  /** one per `PageData.context` */
  readonly context: ReadonlyArray<NodeBox>
  /** `from` a context index, `to` a task index */
  readonly contextEdges: ReadonlyArray<ExtraEdge>
}

/** Approximate text widths for the page's sans-serif font (no canvas in Node). */
const CHAR = 7.4
const TAG_CHAR = 6.4
export const NODE_HEIGHT = 48
const MAX_CHARS = 34
/** a group box: padding around its tasks, room for its label above them */
const PAD = 14
const HEADER = 34
const CONTEXT_HEIGHT = 34

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

/** A task's name as drawn: inside a group, its own name (the box says where it is), as Mermaid draws it. */
export const shortName = (data: PageData, i: number): string => {
  const t = data.tasks[i]!
  if (t.group === null) return t.name
  const prefix = `${data.groups[t.group]!.name} / `
  return t.name.startsWith(prefix) ? t.name.slice(prefix.length) : t.name
}

interface Box {
  readonly x: number
  readonly y: number
  readonly width: number
  readonly height: number
}

/** One level of the drawing (the run's own tasks, or one group's) laid out by dagre, relative to its origin. */
interface Level {
  readonly width: number
  readonly height: number
  readonly boxes: ReadonlyMap<string, Box>
  readonly routes: ReadonlyMap<string, { readonly points: ReadonlyArray<Point>; readonly label: Point | undefined }>
}

/**
 * Each group is laid out by dagre on its own (its tasks and the groups run
 * inside them), then placed as one node of its parent's layout, so edges
 * into it end at its box: a graph run inside a task is a box after that
 * task, joined to it by a "runs" edge, as the Mermaid output draws it.
 */
const layoutIn = (dagre: Dagre, data: PageData, rankdir: "LR" | "TB"): GraphLayout => {
  const labels = data.tasks.map((_, i) => cut(shortName(data, i), MAX_CHARS))
  const taskSize = (i: number) => ({ width: Math.max(128, 28 + CHAR * Math.max(labels[i]!.length, 22)), height: NODE_HEIGHT })
  const groupLabels = data.groups.map((g) => cut(g.graph, MAX_CHARS))
  const groupSubs = data.groups.map((g, k) => {
    const n = data.tasks.reduce((count, t) => count + (t.group === k ? 1 : 0), 0)
    const task = g.task === null ? "" : ` · in ${cut(shortName(data, g.task), 24)}`
    return `${n} task${n === 1 ? "" : "s"}${task}`
  })
  const tasksAt = new Map<number | null, Array<number>>()
  data.tasks.forEach((t, i) => {
    const list = tasksAt.get(t.group) ?? []
    list.push(i)
    tasksAt.set(t.group, list)
  })
  const groupsAt = new Map<number | null, Array<number>>()
  data.groups.forEach((g, k) => {
    const list = groupsAt.get(g.parent) ?? []
    list.push(k)
    groupsAt.set(g.parent, list)
  })
  const levels: Array<Level> = []
  const groupSize = (k: number) => {
    const inner = levels[k]!
    const label = Math.max(groupLabels[k]!.length * (CHAR + 0.6), groupSubs[k]!.length * 6.2) + 24
    return { width: Math.max(inner.width + 2 * PAD, label + 2 * PAD), height: inner.height + HEADER + PAD }
  }
  const levelOf = (key: number | null): Level => {
    const g = new dagre.graphlib.Graph<GraphLabel, NodeLabel, EdgeLabel>({ multigraph: true })
    const margin = key === null ? 16 : 0
    g.setGraph({ rankdir, nodesep: rankdir === "LR" ? 26 : 40, ranksep: rankdir === "LR" ? 70 : 56, edgesep: 14, marginx: margin, marginy: margin })
    g.setDefaultEdgeLabel(() => ({}))
    const here = new Set(tasksAt.get(key) ?? [])
    for (const i of here) g.setNode(`t${i}`, taskSize(i))
    for (const k of groupsAt.get(key) ?? []) g.setNode(`g${k}`, groupSize(k))
    data.edges.forEach((e, k) => {
      if (!here.has(e.from) || !here.has(e.to)) return
      const config = e.tag === null
        ? { minlen: 1, weight: 1 }
        : { minlen: 1, weight: 2, width: 12 + TAG_CHAR * cut(e.tag, 28).length, height: 18, labelpos: "c" as const }
      g.setEdge(`t${e.from}`, `t${e.to}`, config, `e${k}`)
    })
    for (const k of groupsAt.get(key) ?? []) {
      const task = data.groups[k]!.task
      if (task !== null && here.has(task)) g.setEdge(`t${task}`, `g${k}`, { minlen: 1, weight: 2 }, `r${k}`)
    }
    if (key === null) {
      data.context.forEach((c, k) => {
        g.setNode(`x${k}`, { width: Math.max(110, 36 + CHAR * cut(c.tag, MAX_CHARS).length), height: CONTEXT_HEIGHT })
        for (const i of c.requiredBy) if (here.has(i)) g.setEdge(`x${k}`, `t${i}`, { minlen: 1, weight: 1 }, `c${k} ${i}`)
      })
    }
    dagre.layout(g)
    const boxes = new Map<string, Box>()
    for (const id of g.nodes()) {
      const n = g.node(id)
      boxes.set(id, { x: n.x ?? 0, y: n.y ?? 0, width: n.width, height: n.height })
    }
    const routes = new Map<string, { points: ReadonlyArray<Point>; label: Point | undefined }>()
    for (const e of g.edges()) {
      const route = g.edge(e)
      const points = (route?.points ?? []).map((p: Point) => ({ x: p.x, y: p.y }))
      const label = route?.x !== undefined && route.y !== undefined && (route.width ?? 0) > 0 ? { x: route.x, y: route.y } : undefined
      routes.set(e.name ?? "", { points, label })
    }
    const graph = g.graph()
    return { width: graph.width ?? 0, height: graph.height ?? 0, boxes, routes }
  }
  // innermost first: a group's size is known before its parent is laid out (parents come before children)
  for (let k = data.groups.length - 1; k >= 0; k--) levels[k] = levelOf(k)
  const root = levelOf(null)

  const nodes: Array<NodeBox> = data.tasks.map((_, i) => ({ x: 0, y: 0, ...taskSize(i), label: labels[i]! }))
  const edges: Array<EdgeRoute> = data.edges.map(() => ({ points: [], label: undefined }))
  const groups: Array<GroupBox> = data.groups.map((_, k) => ({ x: 0, y: 0, width: 0, height: 0, label: groupLabels[k]!, sub: groupSubs[k]! }))
  const runs: Array<ExtraEdge> = []
  const context: Array<NodeBox> = []
  const contextEdges: Array<ExtraEdge> = []
  const shift = (points: ReadonlyArray<Point>, dx: number, dy: number) => points.map((p) => ({ x: p.x + dx, y: p.y + dy }))
  const place = (level: Level, dx: number, dy: number) => {
    for (const [id, b] of level.boxes) {
      const n = Number(id.slice(1))
      if (id[0] === "t") nodes[n] = { ...nodes[n]!, x: b.x + dx, y: b.y + dy }
      else if (id[0] === "x") context[n] = { x: b.x + dx, y: b.y + dy, width: b.width, height: b.height, label: cut(data.context[n]!.tag, MAX_CHARS) }
      else if (id[0] === "g") {
        const left = b.x + dx - b.width / 2
        const top = b.y + dy - b.height / 2
        groups[n] = { ...groups[n]!, x: left, y: top, width: b.width, height: b.height }
        const inner = levels[n]!
        place(inner, left + (b.width - inner.width) / 2, top + HEADER)
      }
    }
    for (const [id, r] of level.routes) {
      if (id[0] === "e") {
        const label = r.label === undefined ? undefined : { x: r.label.x + dx, y: r.label.y + dy }
        edges[Number(id.slice(1))] = { points: shift(r.points, dx, dy), label }
      } else if (id[0] === "r") {
        const k = Number(id.slice(1))
        runs.push({ from: data.groups[k]!.task!, to: k, points: shift(r.points, dx, dy) })
      } else if (id[0] === "c") {
        const [k, i] = id.slice(1).split(" ").map(Number)
        contextEdges.push({ from: k!, to: i!, points: shift(r.points, dx, dy) })
      }
    }
  }
  place(root, 0, 0)
  // an edge between tasks of different levels (none today: a run's edges stay inside it): a straight line
  data.edges.forEach((e, k) => {
    if (edges[k]!.points.length > 0) return
    const a = nodes[e.from]!
    const b = nodes[e.to]!
    edges[k] = { points: [{ x: a.x, y: a.y }, { x: b.x, y: b.y }], label: undefined }
  })
  return { width: root.width, height: root.height, nodes, edges, groups, runs, context, contextEdges }
}
