/**
 * The summary printed at the end of a run: each task's status and duration,
 * the critical path, the total, and where the logs are.
 *
 * @internal
 */
import { Option } from "effect"
import type { TaskState } from "../../RunReport.js"
import * as Text from "./text.js"
import type { End } from "./types.js"

/** Status symbols (Unicode or ASCII). */
export interface Icons {
  readonly pending: string
  readonly ready: string
  readonly released: string
  readonly failed: string
  readonly interrupted: string
  readonly skipped: string
  readonly spinner: ReadonlyArray<string>
  readonly bar: string
  readonly corner: string
}

export const unicodeIcons: Icons = {
  pending: "·",
  ready: "●",
  released: "✓",
  failed: "✗",
  interrupted: "■",
  skipped: "-",
  spinner: ["⠋", "⠙", "⠹", "⠸", "⠼", "⠴", "⠦", "⠧", "⠇", "⠏"],
  bar: "│",
  corner: "╰"
}

export const asciiIcons: Icons = {
  pending: ".",
  ready: "*",
  released: "+",
  failed: "x",
  interrupted: "!",
  skipped: "-",
  spinner: ["|", "/", "-", "\\"],
  bar: "|",
  corner: "`"
}

/** The symbol of a settled state, coloured. */
export const icon = (state: TaskState, icons: Icons, p: Text.Palette, frame = 0): string => {
  switch (state) {
    case "pending":
      return p.dim(icons.pending)
    case "running":
      return p.cyan(icons.spinner[frame % icons.spinner.length]!)
    case "ready":
      return p.blue(icons.ready)
    case "released":
      return p.green(icons.released)
    case "failed":
    case "timed out":
      return p.red(icons.failed)
    case "interrupted":
      return p.yellow(icons.interrupted)
    case "skipped":
      return p.dim(icons.skipped)
  }
}

/** Colours a state word. */
export const stateWord = (state: TaskState, p: Text.Palette): string => {
  switch (state) {
    case "released":
      return p.green(state)
    case "failed":
    case "timed out":
      return p.red(state)
    case "interrupted":
      return p.yellow(state)
    case "skipped":
    case "pending":
      return p.dim(state)
    default:
      return state
  }
}

export interface SummaryOptions {
  readonly palette: Text.Palette
  /** with icons (pretty), or without (plain) */
  readonly icons: Icons | undefined
  /** prefix of run-level lines, e.g. "== " in plain output */
  readonly prefix: string
  /** the terminal's width, to cut long names */
  readonly columns?: number | undefined
}

/** The summary, one string per line. */
export const lines = (end: End, options: SummaryOptions): Array<string> => {
  const { report } = end
  const p = options.palette
  const columns = options.columns ?? 100
  const nameWidth = Math.max(4, Math.min(Math.max(...report.tasks.map((t) => Text.width(t.name)), 4), Math.floor(columns * 0.45)))
  const total = Option.match(report.durationMs, { onNone: () => "", onSome: Text.duration })
  const status = report.status === "interrupted" && end.stoppedBy !== undefined
    ? `interrupted (${end.stoppedBy})`
    : report.status
  const statusText = report.status === "succeeded" ? p.green(status) : report.status === "failed" ? p.red(status) : p.yellow(status)
  const out: Array<string> = [`${options.prefix}${p.bold(report.graph)}: ${statusText}${total === "" ? "" : ` in ${total}`}`]
  for (const t of report.tasks) {
    const mark = options.icons === undefined ? "" : `${icon(t.status, options.icons, p)} `
    const time = Option.match(t.durationMs, { onNone: () => "", onSome: Text.duration })
    const note = Text.reportStopNote(t) ?? (t.attempts > 1 ? `${t.attempts} attempts` : "")
    out.push(
      `  ${mark}${Text.padEnd(t.name, nameWidth)}  ${stateWord(t.status, p)}${" ".repeat(Math.max(1, 12 - t.status.length))}${Text.padStart(time, 7)}${note === "" ? "" : `  ${p.dim(note)}`}`
        .replace(/\s+$/, "")
    )
  }
  if (report.criticalPath.length > 0) {
    out.push(`${options.prefix}critical path: ${report.criticalPath.join(" -> ")}`)
  }
  for (const a of end.artifacts) out.push(`${options.prefix}${a.label}: ${a.path}`)
  return out
}
