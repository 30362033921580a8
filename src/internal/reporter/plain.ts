/**
 * Plain output for CI logs and pipes: every output line as `[task] line`,
 * every state change as `[task] -- started` / `-- ready in 1.2s` / …, run
 * level lines as `== …`. Nothing is ever redrawn.
 *
 * @internal
 */
import type * as TaskEvent from "../../TaskEvent.js"
import * as Model from "./model.js"
import type { Output } from "./pretty.js"
import * as Summary from "./summary.js"
import * as Text from "./text.js"
import type { End, Forced, Notice, Stopping } from "./types.js"

export interface Config {
  readonly output: Output
  /** print the summary at the end (default true) */
  readonly summary: boolean
  /** print the `[task] line` output lines (default true; the json reporter's stderr twin says false) */
  readonly outputLines: boolean
  /** minimum time between two "still stopping" lines */
  readonly stoppingEveryMs: number
}

export interface View {
  readonly begin: () => void
  readonly events: (events: ReadonlyArray<TaskEvent.TaskEvent>) => void
  readonly notice: (notice: Notice) => void
  readonly end: (end: End) => void
  readonly force: (forced: Forced) => void
}

/** `sleep 300 (pid 12)` */
const processText = (p: Stopping["processes"][number]) => `${[p.command, ...p.args].join(" ")} (pid ${p.pid})`

/** The text of a stopping notice, without prefix. */
export const stoppingText = (s: Stopping): string => {
  const tasks = s.tasks.map((t) => `${t.name} (${t.phase})`)
  const procs = s.processes.map(processText)
  const busy = [
    tasks.length > 0 ? `${Text.count(tasks.length, "task")}: ${tasks.join(", ")}` : "",
    procs.length > 0 ? `${Text.count(procs.length, "process", "processes")}: ${procs.join(", ")}` : ""
  ].filter((x) => x !== "")
  const head = s.first ? `${s.reason}: stopping` : `still stopping after ${Text.duration(s.now - s.since)}`
  return `${head}${busy.length === 0 ? "" : ` ${busy.join("; ")}`}${s.first && s.hint !== undefined ? `. ${s.hint}` : ""}`
}

export const make = (plan: Model.PlanLike, config: Config): View => {
  const model = Model.make(plan, 1)
  let lastStoppingAt = -Infinity
  const write = (lines: ReadonlyArray<string>) => {
    if (lines.length === 0) return
    try {
      config.output.write(lines.join("\n") + "\n")
    } catch {
      // the output went away: nothing to do
    }
  }
  const took = (t: Model.TaskView | undefined, at: number) =>
    t?.startedAt === undefined ? "" : Text.duration(at - t.startedAt)

  return {
    begin: () => write([`== ${plan.graph}: ${Text.count(plan.tasks.length, "task")}`]),
    events: (events) => {
      const out: Array<string> = []
      // a task with nothing to release goes ready -> released at once: say "done" once
      const releasedHere = new Set<string>()
      for (let k = 0; k < events.length; k++) {
        const event = events[k]!
        if (event._tag === "TaskReleased" && releasedHere.has(event.task)) {
          Model.apply(model, event)
          continue
        }
        const t = Model.apply(model, event)
        const tag = `[${event.task}]`
        switch (event._tag) {
          case "TaskOutput":
            if (config.outputLines) {
              const text = Text.outputText(event)
              out.push(text === "" ? tag : `${tag} ${text}`)
            }
            break
          case "TaskStarted":
            out.push(`${tag} -- started${event.attempt > 1 ? ` (attempt ${event.attempt})` : ""}`)
            break
          case "TaskReady": {
            const next = events.slice(k + 1).find((e) => e.task === event.task)
            if (next?._tag === "TaskReleased") {
              releasedHere.add(event.task)
              out.push(`${tag} -- done in ${Text.duration(event.durationMs)}`)
            } else {
              out.push(`${tag} -- ready in ${Text.duration(event.durationMs)}`)
            }
            break
          }
          case "TaskReleased":
            out.push(`${tag} -- released`)
            break
          case "TaskFailed": {
            out.push(`${tag} -- FAILED${t === undefined ? "" : ` after ${took(t, event.timestamp)}`}`)
            for (const line of Text.errorLines(event.error)) out.push(line === "" ? tag : `${tag}    ${line}`)
            break
          }
          case "TaskTimedOut":
            out.push(`${tag} -- TIMED OUT after ${took(t, event.timestamp)} (timeout ${Text.duration(event.timeoutMs)})`)
            break
          case "TaskInterrupted": {
            const note = Text.stopNote(event)
            out.push(`${tag} -- interrupted${note === undefined ? "" : ` (${note})`}`)
            break
          }
          case "TaskSkipped": {
            const note = Text.stopNote(event)
            out.push(`${tag} -- skipped${note === undefined ? "" : ` (${note})`}`)
            break
          }
          case "RunFinished":
            break
        }
      }
      write(out)
    },
    notice: (notice) => {
      if (notice._tag === "Log") {
        write([`[${notice.task ?? plan.graph}] ${notice.message}`])
        return
      }
      // the first notice at once; then "still stopping …" now and then, while something is left
      if (!notice.first) {
        if (notice.tasks.length + notice.processes.length === 0) return
        if (notice.now - lastStoppingAt < config.stoppingEveryMs) return
      }
      lastStoppingAt = notice.now
      write([`== ${stoppingText(notice)}`])
    },
    end: (end) => {
      if (!config.summary) return
      write(["", ...Summary.lines(end, { palette: Text.palette(false), icons: undefined, prefix: "== " })])
    },
    force: (forced) =>
      write([`== forced exit (second ${forced.reason}): killed ${Text.count(forced.killed, "process group")} without waiting`])
  }
}
