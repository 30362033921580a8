/**
 * The live terminal view: one line per task (state, spinner, elapsed time,
 * the last output line of running tasks), redrawn in place; failures and
 * stray logs printed once above it; a footer while the run stops.
 *
 * Each redraw is one `write`: move to the top of the previous frame, rewrite
 * every line (clearing its end), clear what is below, all inside a
 * synchronized-update bracket. Lines never reach the last column (no
 * auto-wrap), and the frame never grows taller than the screen, so the
 * cursor arithmetic stays exact.
 *
 * @internal
 */
import type { Output } from "../../Reporter.js"
import type * as TaskEvent from "../../TaskEvent.js"

export type { Output } from "../../Reporter.js"
import * as Model from "./model.js"
import * as Summary from "./summary.js"
import * as Text from "./text.js"
import type { End, Forced, Notice, Stopping } from "./types.js"

/** Where a reporter writes: `process.stdout` or anything alike. */

export interface Config {
  readonly output: Output
  readonly color: boolean
  readonly unicode: boolean
  /** how many last output lines a failure shows */
  readonly tailLines: number
  /** fixed size (tests); default: the output's, else 80×24 */
  readonly columns?: number | undefined
  readonly rows?: number | undefined
}

const SYNC_START = "\x1b[?2026h"
const SYNC_END = "\x1b[?2026l"
export const HIDE_CURSOR = "\x1b[?25l"
export const SHOW_CURSOR = "\x1b[?25h"

interface StaticLine {
  readonly head: string
  readonly text: string
  readonly style: (s: string) => string
}

export interface View {
  readonly begin: (now: number) => void
  readonly events: (events: ReadonlyArray<TaskEvent.TaskEvent>) => void
  readonly notice: (notice: Notice) => void
  readonly tick: (now: number) => void
  readonly end: (end: End, now: number) => void
  readonly force: (forced: Forced, now: number) => void
  readonly close: () => void
  /** the current frame, as plain text lines (tests) */
  readonly frame: (now: number) => ReadonlyArray<string>
}

export const make = (plan: Model.PlanLike, config: Config): View => {
  const model = Model.make(plan, Math.max(config.tailLines, 1))
  const p = Text.palette(config.color)
  const icons = config.unicode ? Summary.unicodeIcons : Summary.asciiIcons
  /** the visible width of each line of the frame on the screen, to find its top again */
  let prevWidths: Array<number> = []
  let spin = 0
  let stopping: Stopping | undefined
  /** lines printed once above the frame: a coloured head, then plain text wrapped to the width */
  let staticLines: Array<StaticLine> = []
  let dirty = true
  let closed = false
  let begunAt = 0

  // a pty without a size (some containers and CI runners) reports 0 columns and rows: unknown, not tiny
  const known = (n: number | undefined) => (n !== undefined && n > 0 ? n : undefined)
  const columns = () => Math.max(20, Math.min(400, known(config.columns) ?? known(config.output.columns) ?? 80))
  const rows = () => Math.max(4, known(config.rows) ?? known(config.output.rows) ?? 24)

  const write = (text: string) => {
    try {
      config.output.write(text)
    } catch {
      // the terminal went away (SIGHUP): nothing to show anymore
      closed = true
    }
  }

  // ---- one task line ---------------------------------------------------------
  const lineStyle = (level: Model.TaskView["lastLevel"]): (s: string) => string =>
    level === "Warning" ? p.yellow : level === "Error" || level === "Fatal" ? p.red : p.dim

  const detailOf = (t: Model.TaskView): string => {
    switch (t.state) {
      case "pending": {
        const waiting = t.waitsFor.filter((n) => {
          const d = model.byName.get(n)
          return d !== undefined && (d.state === "pending" || d.state === "running")
        })
        return p.dim(waiting.length === 0 ? "queued" : `waiting for ${waiting.join(", ")}`)
      }
      case "running": {
        const line = t.lastLine === undefined ? "" : Text.displayLine(t.lastLine)
        const attempt = t.attempt > 1 ? `attempt ${t.attempt}` : ""
        if (t.stopping) return p.yellow("stopping") + (line === "" ? "" : p.dim(` · ${line}`))
        // a logged warning or error stands out from the task's other lines
        const shown = line === "" ? "" : lineStyle(t.lastLevel)(line)
        if (attempt === "") return shown === "" ? p.dim("running") : shown
        return p.dim(attempt) + (shown === "" ? "" : p.dim(" · ") + shown)
      }
      case "ready": {
        // what its finalizers print while they run ("powering off (QMP quit)")
        const line = t.lastLine !== undefined && t.lastLineAt !== undefined && t.endedAt !== undefined &&
            t.lastLineAt > t.endedAt
          ? Text.displayLine(t.lastLine)
          : ""
        if (t.stopping) return p.yellow("releasing") + (line === "" ? "" : p.dim(` · ${line}`))
        return p.blue("ready, in use") + (line === "" ? "" : p.dim(` · ${line}`))
      }
      case "released":
        return p.dim("done")
      case "failed":
        return p.red(`failed: ${(Text.errorLines(t.error ?? "", 1)[0] ?? "").replace(/^[A-Za-z]*Error: /, "")}`)
      case "timed out":
        return p.red(`timed out after ${Text.duration(t.timeoutMs ?? 0)}`)
      case "interrupted":
        return p.yellow("interrupted")
      case "skipped": {
        const note = Text.stopNote(t)
        return p.dim(note === undefined ? "skipped" : `skipped: ${note}`)
      }
    }
  }

  const elapsedOf = (t: Model.TaskView, now: number): string => {
    if (t.startedAt === undefined) return ""
    const end = t.state === "running" ? now : t.endedAt ?? now
    return Text.duration(Math.max(0, end - t.startedAt))
  }

  const taskLine = (t: Model.TaskView, now: number, nameWidth: number, width: number): string => {
    const mark = (t.state === "running" || t.state === "ready") && t.stopping
      ? p.yellow(icons.spinner[spin % icons.spinner.length]!)
      : Summary.icon(t.state, icons, p, spin)
    const name = Text.padEnd(t.name, nameWidth)
    const head = ` ${mark} ${t.state === "running" ? p.bold(name) : name} ${Text.padStart(elapsedOf(t, now), 6)}  `
    const room = width - 1 - (1 + 1 + 1 + nameWidth + 1 + 6 + 2)
    return head + cut(detailOf(t), room)
  }

  /** Cuts coloured text to `room` visible columns (colour codes kept whole, then reset). */
  const cut = (text: string, room: number): string => {
    if (Text.width(text) <= room) return text
    if (!config.color) return Text.truncate(text, room)
    return Text.truncate(Text.stripAnsi(text), room)
  }

  // ---- the frame -------------------------------------------------------------
  const render = (now: number): Array<string> => {
    const width = columns()
    const c = Model.counts(model)
    const longest = Math.max(4, ...model.tasks.map((t) => Text.width(t.name)))
    const nameWidth = Math.min(longest, Math.max(10, Math.floor((width - 12) * 0.4)))
    const elapsed = Text.duration(Math.max(0, now - (model.firstTimestamp ?? begunAt)))
    const parts = [`${c.done}/${c.total} done`]
    if (c.running > 0) parts.push(`${c.running} running`)
    if (c.failed > 0) parts.push(p.red(`${c.failed} failed`))
    const header = ` ${p.bold(Text.truncate(model.graph, Math.max(10, width - 40)))}  ${parts.join(" · ")}  ${p.dim(elapsed)}`
    const footer = stopping === undefined || model.finished !== undefined ? [] : footerLines(stopping, now, width)
    const room = Math.max(1, rows() - 1 - 1 - footer.length)
    const shown = pick(model.tasks, room)
    const lines = [cut(header, width - 1)]
    for (const t of shown.tasks) lines.push(taskLine(t, now, nameWidth, width))
    if (shown.hidden > 0) lines.push(p.dim(` … ${shown.hidden} more (${shown.hiddenText})`))
    return [...lines, ...footer]
  }

  /** At most `room` lines of tasks: busy and failed ones first, in graph order. */
  const pick = (tasks: ReadonlyArray<Model.TaskView>, room: number) => {
    if (tasks.length <= room) return { tasks, hidden: 0, hiddenText: "" }
    const rank = (t: Model.TaskView) =>
      t.state === "running" || t.stopping ? 0
      : t.state === "failed" || t.state === "timed out" ? 1
      : t.state === "ready" ? 2
      : t.state === "pending" ? 3
      : 4
    const keep = new Set(
      [...tasks].sort((a, b) => rank(a) - rank(b) || a.index - b.index).slice(0, Math.max(0, room - 1)).map((t) => t.index)
    )
    const hidden = tasks.filter((t) => !keep.has(t.index))
    const done = hidden.filter((t) => t.state !== "pending").length
    const waiting = hidden.length - done
    const text = [done > 0 ? `${done} done` : "", waiting > 0 ? `${waiting} waiting` : ""].filter((s) => s !== "").join(", ")
    return { tasks: tasks.filter((t) => keep.has(t.index)), hidden: hidden.length, hiddenText: text }
  }

  const footerLines = (s: Stopping, now: number, width: number): Array<string> => {
    const what: Array<string> = []
    // the tasks from the events (up to date), the programs from the last notice
    const tasks = model.tasks.filter((t) => t.stopping).length
    if (tasks > 0) what.push(Text.count(tasks, "task"))
    if (s.processes.length > 0) what.push(Text.count(s.processes.length, "process", "processes"))
    const busy = what.length === 0 ? "finishing" : `stopping ${what.join(" and ")}`
    const out = [cut(p.yellow(` ${icons.interrupted} ${s.reason}: ${busy}… ${Text.duration(now - s.since)}`), width - 1)]
    if (s.hint !== undefined) out.push(cut(p.yellow(`   ${s.hint}`), width - 1))
    for (const proc of s.processes.slice(0, 3)) {
      out.push(cut(p.dim(`   ${proc.state} ${[proc.command, ...proc.args].join(" ")} (pid ${proc.pid})`), width - 1))
    }
    if (s.processes.length > 3) out.push(p.dim(`   … ${s.processes.length - 3} more`))
    return out
  }

  // ---- static text above the frame ------------------------------------------
  const failureBlock = (t: Model.TaskView): Array<StaticLine> => {
    const took = t.startedAt !== undefined && t.endedAt !== undefined ? ` after ${Text.duration(t.endedAt - t.startedAt)}` : ""
    const what = t.state === "timed out" ? `timed out${took} (timeout ${Text.duration(t.timeoutMs ?? 0)})` : `failed${took}`
    const out: Array<StaticLine> = [{ head: `${p.red(icons.failed)} `, text: `${t.name} ${what}`, style: p.red }]
    const error = t.state === "failed" ? Text.errorLines(t.error ?? "", 12) : []
    // the error often ends with the last lines of stderr already: do not show them twice
    const inError = new Set(error.map((l) => l.trim()))
    const tail = t.tail.slice(-config.tailLines).map(Text.displayLine).filter((l) => !inError.has(l.trim()))
    for (const line of tail) out.push({ head: `  ${p.dim(icons.bar)} `, text: line, style: (s) => s })
    error.forEach((line, k) => out.push({ head: `  ${p.red(k === 0 ? icons.corner : " ")} `, text: line, style: p.red }))
    return out
  }

  const staticText = (line: StaticLine, width: number): string => {
    const headWidth = Text.width(line.head)
    const pieces = Text.wrap(line.text, Math.max(10, width - 1 - headWidth))
    return pieces.map((piece, k) => `${k === 0 ? line.head : " ".repeat(headWidth)}${line.style(piece)}\x1b[K\n`).join("")
  }

  const draw = (now: number) => {
    if (closed) return
    const lines = render(now)
    const width = columns()
    let s = SYNC_START
    // rows the previous frame takes now: after the terminal got narrower, its lines were
    // re-wrapped (reflowed) by the terminal; otherwise one row each
    const up = prevWidths.reduce((rows, w) => rows + Math.max(1, Math.ceil(w / width)), 0)
    if (up > 0) s += `\x1b[${up}F`
    for (const line of staticLines) s += staticText(line, width)
    for (const line of lines) s += `${line}\x1b[K\n`
    s += `\x1b[J${SYNC_END}`
    staticLines = []
    prevWidths = lines.map(Text.width)
    dirty = false
    write(s)
  }

  const busy = () => model.tasks.some((t) => t.state === "running" || t.stopping) || stopping !== undefined

  return {
    begin: (now) => {
      begunAt = now
      write(HIDE_CURSOR)
      draw(now)
    },
    events: (events) => {
      for (const event of events) {
        const t = Model.apply(model, event)
        if (t !== undefined && (event._tag === "TaskFailed" || event._tag === "TaskTimedOut")) {
          staticLines.push(...failureBlock(t))
        }
      }
      dirty = true
    },
    notice: (notice) => {
      if (notice._tag === "Stopping") {
        stopping = notice
        Model.markStopping(model, notice.tasks.map((t) => t.name))
      } else {
        const origin = notice.task ?? model.graph
        staticLines.push({ head: `${p.dim(`[${origin}]`)} `, text: Text.displayLine(notice.message), style: (s) => s })
      }
      dirty = true
    },
    tick: (now) => {
      spin++
      if (dirty || busy() || staticLines.length > 0) draw(now)
    },
    end: (end, now) => {
      stopping = undefined
      draw(now)
      if (closed) return
      const summary = Summary.lines(end, { palette: p, icons, prefix: "", columns: columns() })
      write(`\n${summary.join("\n")}\n${SHOW_CURSOR}`)
      closed = true
    },
    force: (forced, now) => {
      draw(now)
      if (closed) return
      write(`${p.red(` ${icons.failed} forced exit`)} (second ${forced.reason}): killed ${Text.count(forced.killed, "process group")} without waiting\n${SHOW_CURSOR}`)
      closed = true
    },
    close: () => {
      if (closed) return
      closed = true
      write(SHOW_CURSOR)
    },
    frame: (now) => render(now).map(Text.stripAnsi)
  }
}
