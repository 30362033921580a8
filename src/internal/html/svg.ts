/**
 * The graph as SVG markup, from the page data and dagre's layout: one
 * `<g class="node st-STATUS">` per task (coloured by status, with its
 * duration; `data-i` is its index for the client script), data edges with
 * their tag, precedence edges dashed, the critical path drawn thick. Above
 * the drawing limit, the condensed view: per band of layers, a bar of task
 * counts per status.
 *
 * @internal
 */
import * as Text from "../reporter/text.js"
import type { PageData, Status, TaskData } from "./data.js"
import type { GraphLayout, Point } from "./layout.js"
import { cut } from "./layout.js"

/** Text for XML: `&`, `<`, `>` and quotes as entities. */
export const escapeXml = (text: string): string =>
  text.replace(/&/g, "&amp;").replace(/</g, "&lt;").replace(/>/g, "&gt;").replace(/"/g, "&quot;").replace(/'/g, "&#39;")

/** The CSS class of a status: `st-timed-out` for "timed out". */
export const statusClass = (status: Status): string => `st-${status.replace(/ /g, "-")}`

/** Every status, in the order the legends list them. */
export const statuses: ReadonlyArray<Status> = [
  "released",
  "ready",
  "running",
  "failed",
  "timed out",
  "interrupted",
  "skipped",
  "pending",
  "planned"
]

const n1 = (x: number) => Math.round(x * 10) / 10

/** A smooth path through dagre's points (quadratic curves between midpoints). */
const pathOf = (points: ReadonlyArray<Point>): string => {
  if (points.length === 0) return ""
  const [first, ...rest] = points
  let d = `M${n1(first!.x)},${n1(first!.y)}`
  if (rest.length === 1) return `${d}L${n1(rest[0]!.x)},${n1(rest[0]!.y)}`
  for (let k = 0; k < rest.length - 1; k++) {
    const p = rest[k]!
    const q = rest[k + 1]!
    const mx = k === rest.length - 2 ? q.x : (p.x + q.x) / 2
    const my = k === rest.length - 2 ? q.y : (p.y + q.y) / 2
    d += `Q${n1(p.x)},${n1(p.y)} ${n1(mx)},${n1(my)}`
  }
  return d
}

/** "failed · 1.23 s", "skipped", "planned". */
export const detailOf = (t: TaskData): string =>
  t.duration === null ? t.status : `${t.status} · ${Text.duration(t.duration)}`

const defs = `<defs>` +
  `<marker id="arrow" viewBox="0 0 10 10" refX="9" refY="5" markerUnits="userSpaceOnUse" markerWidth="10" markerHeight="10" orient="auto-start-reverse"><path d="M0,0L10,5L0,10z" class="arrowhead"/></marker>` +
  `<marker id="arrow-crit" viewBox="0 0 10 10" refX="9" refY="5" markerUnits="userSpaceOnUse" markerWidth="13" markerHeight="13" orient="auto-start-reverse"><path d="M0,0L10,5L0,10z" class="arrowhead crit"/></marker>` +
  `</defs>`

/** The full drawing: every task and edge. */
export const graphSvg = (data: PageData, layout: GraphLayout): string => {
  const out: Array<string> = []
  const w = Math.ceil(layout.width)
  const h = Math.ceil(layout.height)
  out.push(
    `<svg xmlns="http://www.w3.org/2000/svg" class="graph" id="graph-svg" viewBox="0 0 ${w} ${h}" width="${w}" height="${h}" role="img" aria-label="${escapeXml(`graph ${data.graph}`)}">`,
    defs
  )
  // graphs run inside tasks: boxes behind everything, a parent's before its children's
  out.push(`<g class="groups">`)
  // a box holding a failed task (in it or in a box inside it) says so
  const failing = new Set<number>()
  data.tasks.forEach((t) => {
    if (t.status !== "failed" && t.status !== "timed out") return
    for (let k = t.group; k !== null && !failing.has(k); k = data.groups[k]!.parent) failing.add(k)
  })
  layout.groups.forEach((g, k) => {
    const group = data.groups[k]!
    out.push(
      `<g class="group${failing.has(k) ? " has-failure" : ""}" data-group="${k}" transform="translate(${n1(g.x)},${n1(g.y)})"><title>${escapeXml(`graph ${group.graph}, run inside ${group.name.slice(0, -(group.graph.length + 3)) || "a task"}`)}</title>` +
        `<rect class="gbox" width="${n1(g.width)}" height="${n1(g.height)}" rx="10"/>` +
        `<text class="glabel" x="12" y="20">${escapeXml(g.label)}</text>` +
        `<text class="gsub" x="${n1(g.width - 12)}" y="20">${escapeXml(g.sub)}</text></g>`
    )
  })
  out.push(`</g><g class="edges">`)
  for (const r of layout.runs) {
    out.push(`<path class="edge runs" data-from="${r.from}" data-group="${r.to}" d="${pathOf(r.points)}" marker-end="url(#arrow)"/>`)
  }
  for (const c of layout.contextEdges) {
    out.push(`<path class="edge ctx" data-context="${c.from}" data-to="${c.to}" d="${pathOf(c.points)}" marker-end="url(#arrow)"/>`)
  }
  data.edges.forEach((e, k) => {
    const route = layout.edges[k]!
    const cls = `edge ${e.tag === null ? "precedence" : "data"}${e.critical ? " crit" : ""}`
    out.push(
      `<path class="${cls}" data-from="${e.from}" data-to="${e.to}" d="${pathOf(route.points)}" marker-end="url(#${e.critical ? "arrow-crit" : "arrow"})"/>`
    )
  })
  out.push(`</g><g class="edge-labels">`)
  data.edges.forEach((e, k) => {
    const at = layout.edges[k]!.label
    if (e.tag === null || at === undefined) return
    const text = cut(e.tag, 28)
    const tw = 10 + text.length * 6.4
    out.push(
      `<g class="elabel" transform="translate(${n1(at.x)},${n1(at.y)})"><title>${escapeXml(e.tag)}</title>` +
        `<rect x="${n1(-tw / 2)}" y="-9" width="${n1(tw)}" height="18" rx="9"/><text y="4">${escapeXml(text)}</text></g>`
    )
  })
  out.push(`</g><g class="nodes">`)
  layout.context.forEach((box, k) => {
    const c = data.context[k]!
    out.push(
      `<g class="ctx" data-context="${k}" transform="translate(${n1(box.x - box.width / 2)},${n1(box.y - box.height / 2)})">` +
        `<title>${escapeXml(`${c.tag}: from the caller's context (no task of the graph provides it)`)}</title>` +
        `<rect class="pill" width="${n1(box.width)}" height="${box.height}" rx="${box.height / 2}"/>` +
        `<text class="cname" x="${n1(box.width / 2)}" y="15">${escapeXml(box.label)}</text>` +
        `<text class="csub" x="${n1(box.width / 2)}" y="27">from context</text></g>`
    )
  })
  data.tasks.forEach((t, i) => {
    const box = layout.nodes[i]!
    const x = n1(box.x - box.width / 2)
    const y = n1(box.y - box.height / 2)
    const cls = `node ${statusClass(t.status)}${t.critical ? " crit" : ""}${t.group === null ? "" : " nested"}`
    out.push(
      `<g class="${cls}" data-i="${i}" transform="translate(${x},${y})" tabindex="0" role="button">` +
        `<title>${escapeXml(`${t.name} — ${detailOf(t)}`)}</title>` +
        `<rect class="box" width="${n1(box.width)}" height="${box.height}" rx="8"/>` +
        `<rect class="stripe" width="6" height="${box.height}" rx="3"/>` +
        `<text class="name" x="16" y="20">${escapeXml(box.label)}</text>` +
        `<text class="sub" x="16" y="37">${escapeXml(detailOf(t))}</text>` +
        `</g>`
    )
  })
  out.push(`</g></svg>`)
  return out.join("")
}

/** Counts of tasks per status. */
export const countStatuses = (tasks: ReadonlyArray<TaskData>): Map<Status, number> => {
  const counts = new Map<Status, number>()
  for (const t of tasks) counts.set(t.status, (counts.get(t.status) ?? 0) + 1)
  return counts
}

/**
 * The condensed view of a large graph: the plan's layers in bands (at most
 * 60 rows), each row a bar of its tasks' statuses, with the counts.
 */
export const condensedSvg = (data: PageData): string => {
  const bands = Math.min(60, Math.max(1, data.layers))
  const perBand = Math.ceil(Math.max(1, data.layers) / bands)
  const rows: Array<Map<Status, number>> = []
  const totals: Array<number> = []
  for (const t of data.tasks) {
    const b = Math.floor(t.layer / perBand)
    const row = rows[b] ??= new Map()
    row.set(t.status, (row.get(t.status) ?? 0) + 1)
    totals[b] = (totals[b] ?? 0) + 1
  }
  const used = rows.length
  const max = Math.max(1, ...totals.map((x) => x ?? 0))
  const labelW = 150
  const barW = 640
  const rowH = 22
  const width = labelW + barW + 120
  const contextLine = data.context.length === 0 ? "" : `from context: ${data.context.map((c) => c.tag).join(", ")}`
  const nested = data.tasks.reduce((n, t) => n + (t.group === null ? 0 : 1), 0)
  const height = 30 + used * rowH + 10 + (contextLine === "" ? 0 : 20)
  const out: Array<string> = [
    `<svg xmlns="http://www.w3.org/2000/svg" class="condensed" id="graph-svg" viewBox="0 0 ${width} ${height}" width="${width}" height="${height}" role="img" aria-label="condensed graph">`,
    `<text class="axis-title" x="0" y="14">${data.tasks.length} tasks in ${data.layers} layers${perBand > 1 ? `, ${perBand} layers per row` : ""}${
      nested > 0 ? ` (${nested} in ${Text.count(data.groups.length, "graph")} run inside tasks, in the layers after their task)` : ""
    }</text>`
  ]
  for (let b = 0; b < used; b++) {
    const row = rows[b] ?? new Map<Status, number>()
    const y = 30 + b * rowH
    const first = b * perBand + 1
    const last = Math.min(data.layers, (b + 1) * perBand)
    const name = first === last ? `layer ${first}` : `layers ${first}–${last}`
    out.push(`<g class="band" data-band="${b}" transform="translate(0,${y})"><text class="band-label" x="0" y="14">${name}</text>`)
    let x = labelW
    for (const status of statuses) {
      const count = row.get(status) ?? 0
      if (count === 0) continue
      const w = Math.max(1.5, (count / max) * barW)
      out.push(
        `<rect class="seg ${statusClass(status)}" x="${n1(x)}" y="2" width="${n1(w)}" height="${rowH - 6}" rx="2"><title>${count} ${status}</title></rect>`
      )
      x += w
    }
    out.push(`<text class="band-count" x="${n1(x + 6)}" y="14">${totals[b] ?? 0}</text></g>`)
  }
  if (contextLine !== "") out.push(`<text class="axis-title ctx-line" x="0" y="${30 + used * rowH + 16}">${escapeXml(contextLine)}</text>`)
  out.push(`</svg>`)
  return out.join("")
}
