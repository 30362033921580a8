/**
 * The timeline as SVG: one row per task that started, on one time axis,
 * with its run phase (start to ready or to its end, coloured by status)
 * and, for a task whose resources outlived its run, the resource lifetime
 * (ready to release) as a lighter bar. Above the drawing limit: how many
 * tasks were running over time.
 *
 * @internal
 */
import * as Text from "../reporter/text.js"
import type { PageData } from "./data.js"
import { cut, shortName } from "./layout.js"
import { escapeXml, statusClass } from "./svg.js"

const n1 = (x: number) => Math.round(x * 10) / 10

/** Round tick steps: 1, 2, 5 × 10^k milliseconds. */
const tickStep = (total: number, count: number): number => {
  const raw = Math.max(total / count, 1)
  const p = 10 ** Math.floor(Math.log10(raw))
  for (const m of [1, 2, 5, 10]) if (m * p >= raw) return m * p
  return 10 * p
}

const axis = (x0: number, width: number, total: number, height: number): string => {
  const step = tickStep(total, 8)
  const out: Array<string> = [`<g class="axis">`]
  for (let t = 0; t <= total + 1e-9; t += step) {
    const x = n1(x0 + (t / total) * width)
    out.push(`<line x1="${x}" x2="${x}" y1="18" y2="${height}"/><text x="${x}" y="12">${escapeXml(Text.duration(t))}</text>`)
  }
  out.push(`</g>`)
  return out.join("")
}

/** The timeline of a run, or an empty string for a plan. */
export const timelineSvg = (data: PageData): string => {
  if (data.kind === "plan") return ""
  return data.condensed ? concurrencySvg(data) : rowsSvg(data)
}

const rowsSvg = (data: PageData): string => {
  const rows = data.tasks
    .map((t, i) => ({ t, i }))
    .filter(({ t }) => t.start !== null)
    .sort((a, b) => a.t.start! - b.t.start! || a.i - b.i)
  const endOf = (t: PageData["tasks"][number]) => Math.max(t.ready ?? t.end ?? t.start!, t.release ?? 0)
  const total = Math.max(1, data.durationMs ?? 0, ...rows.map(({ t }) => endOf(t)))
  const labelW = 220
  const barW = 760
  const rowH = 24
  const top = 24
  const width = labelW + barW + 20
  const height = top + rows.length * rowH + 8
  const out: Array<string> = [
    `<svg xmlns="http://www.w3.org/2000/svg" class="timeline" viewBox="0 0 ${width} ${height}" width="${width}" height="${height}" role="img" aria-label="timeline">`,
    axis(labelW, barW, total, height)
  ]
  const x = (ms: number) => n1(labelW + (ms / total) * barW)
  rows.forEach(({ t, i }, k) => {
    const y = top + k * rowH
    const runEnd = t.ready ?? t.end ?? t.start!
    const cls = `${statusClass(t.status)}${t.critical ? " crit" : ""}`
    out.push(`<g class="trow" data-i="${i}" transform="translate(0,${y})">`)
    out.push(`<rect class="hit" x="0" y="0" width="${width}" height="${rowH}"/>`)
    // a task of a graph run inside a task: "<graph> / <name>", its full name in the tooltip
    const label = t.group === null ? t.name : `${data.groups[t.group]!.graph} / ${shortName(data, i)}`
    out.push(`<text class="tlabel${t.group === null ? "" : " nested"}" x="${labelW - 10}" y="16"><title>${escapeXml(t.name)}</title>${escapeXml(cut(label, 30))}</text>`)
    if (t.ready !== null && t.release !== null && t.release > t.ready) {
      out.push(
        `<rect class="held ${cls}" x="${x(t.ready)}" y="7" width="${n1(Math.max(1, x(t.release) - x(t.ready)))}" height="10" rx="3"><title>${
          escapeXml(`${t.name}: resources held ${Text.duration(t.release - t.ready)} (ready → released)`)
        }</title></rect>`
      )
    }
    out.push(
      `<rect class="run ${cls}" x="${x(t.start!)}" y="4" width="${n1(Math.max(2, x(runEnd) - x(t.start!)))}" height="16" rx="3"><title>${
        escapeXml(`${t.name}: ${t.status}, run ${Text.duration(runEnd - t.start!)}`)
      }</title></rect>`
    )
    out.push(`</g>`)
  })
  out.push(`</svg>`)
  return out.join("")
}

/** For large runs: tasks in their run phase over time, in 200 columns. */
const concurrencySvg = (data: PageData): string => {
  const total = Math.max(1, data.durationMs ?? 0)
  const columns = 200
  const counts = new Int32Array(columns)
  for (const t of data.tasks) {
    if (t.start === null) continue
    const end = t.ready ?? t.end ?? t.start
    const a = Math.min(columns - 1, Math.floor((t.start / total) * columns))
    const b = Math.min(columns - 1, Math.floor((end / total) * columns))
    for (let c = a; c <= b; c++) counts[c]!++
  }
  const max = Math.max(1, ...counts)
  const labelW = 60
  const barW = 800
  const h = 140
  const top = 24
  const width = labelW + barW + 20
  const height = top + h + 8
  const out: Array<string> = [
    `<svg xmlns="http://www.w3.org/2000/svg" class="timeline concurrency" viewBox="0 0 ${width} ${height}" width="${width}" height="${height}" role="img" aria-label="tasks running over time">`,
    axis(labelW, barW, total, height),
    `<text class="tlabel" x="${labelW - 8}" y="${top + 10}">${max}</text><text class="tlabel" x="${labelW - 8}" y="${top + h}">0</text>`
  ]
  const cw = barW / columns
  for (let c = 0; c < columns; c++) {
    const v = counts[c]!
    if (v === 0) continue
    const bh = (v / max) * h
    out.push(`<rect class="conc" x="${n1(labelW + c * cw)}" y="${n1(top + h - bh)}" width="${n1(cw)}" height="${n1(bh)}"><title>${v} running</title></rect>`)
  }
  out.push(`</svg>`)
  return out.join("")
}
