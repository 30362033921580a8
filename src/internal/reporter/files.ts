/**
 * Log files of a run, in one directory:
 *
 *   run.log           every line of every task, with timestamps and prefixes, plus state changes
 *   tasks/NAME.log    each task's own output lines, as the programs printed them
 *   events.jsonl      every event, Schema-encoded (TaskEvent.fromJsonLine reads them back)
 *   report.json       the final report: status, timings, errors, critical path, log file of each task
 *   summary.txt       the summary printed at the end
 *   graph.mmd         the executed graph (Mermaid flowchart, coloured by status)
 *   gantt.mmd         the timeline (Mermaid gantt)
 *
 * Writes are synchronous, so that what was logged is on disk even when a
 * second Ctrl+C ends the process at once.
 *
 * @internal
 */
import * as fs from "node:fs"
import * as path from "node:path"
import { makeDirectorySync } from "../makeDirectory.js"
import { Option } from "effect"
import * as RunReport from "../../RunReport.js"
import * as TaskEvent from "../../TaskEvent.js"
import type * as Model from "./model.js"
import * as Summary from "./summary.js"
import * as Text from "./text.js"
import type { End, Forced, Notice } from "./types.js"
import { prettyCause } from "../errorText.js"

export interface Writer {
  readonly dir: string
  readonly events: (events: ReadonlyArray<TaskEvent.TaskEvent>) => void
  readonly notice: (notice: Notice) => void
  readonly end: (end: End) => void
  readonly force: (forced: Forced) => void
  readonly close: () => void
}

/** A file name for a task name: letters, digits, `.`, `_`, `-`; unique within the run. */
export const fileNames = (tasks: ReadonlyArray<string>): Map<string, string> => {
  const used = new Set<string>()
  const names = new Map<string, string>()
  for (const task of tasks) {
    const base = task.replace(/[^A-Za-z0-9._-]+/g, "-").replace(/^[-.]+|-+$/g, "").slice(0, 80) || "task"
    let name = base
    for (let k = 2; used.has(name.toLowerCase()); k++) name = `${base}-${k}`
    used.add(name.toLowerCase())
    names.set(task, `${name}.log`)
  }
  return names
}

/**
 * Opens the directory (creating it) and the combined log. Throws an `Error`
 * with a clear message when the directory cannot be written.
 */
export const open = (plan: Model.PlanLike, dir: string): Writer => {
  const root = path.resolve(dir)
  const tasksDir = path.join(root, "tasks")
  makeDirectorySync(tasksDir)
  // logs of an earlier run in the same directory would be mistaken for this one's
  for (const entry of fs.readdirSync(tasksDir)) {
    if (entry.endsWith(".log")) fs.rmSync(path.join(tasksDir, entry), { force: true })
  }
  const names = fileNames(plan.tasks)
  const fds = new Map<string, number>()
  const combined = fs.openSync(path.join(root, "run.log"), "w")
  const events = fs.openSync(path.join(root, "events.jsonl"), "w")
  let broken: string | undefined
  let closed = false
  const starts = new Map<string, number>()

  const put = (fd: number, text: string) => {
    if (broken !== undefined || closed) return
    try {
      fs.writeSync(fd, text)
    } catch (error) {
      broken = String(error)
      process.stderr.write(`effect-taskgraph: could not write the logs in ${root}: ${broken}\n`)
    }
  }
  const taskFd = (task: string): number | undefined => {
    let fd = fds.get(task)
    if (fd !== undefined) return fd
    let name = names.get(task)
    if (name === undefined && broken === undefined && !closed) {
      // a task of a graph run inside a task: named when first heard of, unique among the others
      const taken = new Set(Array.from(names.values(), (n) => n.toLowerCase()))
      const base = fileNames([task]).get(task)!.slice(0, -4)
      name = `${base}.log`
      for (let k = 2; taken.has(name.toLowerCase()); k++) name = `${base}-${k}.log`
      names.set(task, name)
    }
    if (name === undefined || broken !== undefined || closed) return undefined
    try {
      fd = fs.openSync(path.join(tasksDir, name), "w")
    } catch (error) {
      broken = String(error)
      return undefined
    }
    fds.set(task, fd)
    return fd
  }
  const stamp = (ms: number) => new Date(ms).toISOString()
  const line = (ms: number, task: string, kind: string, text: string) => `${stamp(ms)} [${task}] ${kind} ${text}\n`

  const writeEvents = (list: ReadonlyArray<TaskEvent.TaskEvent>) => {
    let all = ""
    let jsonl = ""
    const perTask = new Map<string, string>()
    for (const event of list) {
      jsonl += TaskEvent.toJsonLine(event) + "\n"
      const { task, timestamp } = event
      switch (event._tag) {
        case "TaskOutput": {
          const text = Text.outputText(event)
          all += line(timestamp, task, event.stream === "stdout" ? "out" : event.stream === "stderr" ? "err" : "log", text)
          perTask.set(task, (perTask.get(task) ?? "") + text + "\n")
          break
        }
        case "TaskStarted":
          starts.set(task, timestamp)
          taskFd(task)
          all += line(timestamp, task, "---", `started${event.attempt > 1 ? ` (attempt ${event.attempt})` : ""}`)
          break
        case "TaskReady":
          all += line(timestamp, task, "---", `ready in ${Text.duration(event.durationMs)}`)
          break
        case "TaskReleased":
          all += line(timestamp, task, "---", "released")
          break
        case "TaskFailed": {
          const started = starts.get(task)
          all += line(timestamp, task, "---", `FAILED${started === undefined ? "" : ` after ${Text.duration(timestamp - started)}`}`)
          for (const l of event.error.split("\n")) all += line(timestamp, task, "   ", l)
          break
        }
        case "TaskTimedOut":
          all += line(timestamp, task, "---", `TIMED OUT (timeout ${Text.duration(event.timeoutMs)})`)
          break
        case "TaskInterrupted": {
          const note = Text.stopNote(event)
          all += line(timestamp, task, "---", `interrupted${note === undefined ? "" : ` (${note})`}`)
          break
        }
        case "TaskSkipped": {
          const note = Text.stopNote(event)
          all += line(timestamp, task, "---", `skipped${note === undefined ? "" : ` (${note})`}`)
          break
        }
        case "RunFinished":
          all += line(timestamp, task, "===", `run ${event.status} in ${Text.duration(event.durationMs)}`)
          break
      }
    }
    put(events, jsonl)
    put(combined, all)
    for (const [task, text] of perTask) {
      const fd = taskFd(task)
      if (fd !== undefined) put(fd, text)
    }
  }

  const closeAll = () => {
    if (closed) return
    closed = true
    for (const fd of [combined, events, ...fds.values()]) {
      try {
        fs.closeSync(fd)
      } catch {
        // already closed
      }
    }
  }

  return {
    dir: root,
    events: writeEvents,
    notice: (notice) => {
      const now = Date.now()
      if (notice._tag === "Log") put(combined, line(now, notice.task ?? plan.graph, "log", notice.message))
      else put(combined, line(notice.now, plan.graph, "===", notice.first ? `${notice.reason}: stopping` : "still stopping") )
    },
    end: (end) => {
      const { report } = end
      const logs: Record<string, string> = {}
      for (const [task] of fds) logs[task] = path.join("tasks", names.get(task)!)
      const files: Array<[string, string]> = [
        ["report.json", JSON.stringify(reportJson(report, logs), null, 2) + "\n"],
        ["summary.txt", Summary.lines(end, { palette: Text.palette(false), icons: undefined, prefix: "" }).join("\n") + "\n"],
        ["graph.mmd", RunReport.toMermaid(report) + "\n"],
        ["gantt.mmd", RunReport.toGantt(report) + "\n"]
      ]
      for (const [name, text] of files) {
        try {
          fs.writeFileSync(path.join(root, name), text)
        } catch (error) {
          process.stderr.write(`effect-taskgraph: could not write ${path.join(root, name)}: ${String(error)}\n`)
        }
      }
      closeAll()
    },
    force: (forced) => {
      put(combined, line(Date.now(), plan.graph, "===", `forced exit (second ${forced.reason}): killed ${Text.count(forced.killed, "process group")}`))
      closeAll()
    },
    close: closeAll
  }
}

const iso = (ms: Option.Option<number>) => Option.getOrNull(Option.map(ms, (n) => new Date(n).toISOString()))

/** The report as plain JSON (values are left out: they need not be serializable). */
export const reportJson = (report: RunReport.RunReport, logs: Readonly<Record<string, string>>) => ({
  graph: report.graph,
  status: report.status,
  startedAt: new Date(report.startedAt).toISOString(),
  finishedAt: iso(report.finishedAt),
  durationMs: Option.getOrNull(report.durationMs),
  criticalPath: report.criticalPath,
  failed: report.failed,
  tasks: report.tasks.map((t) => ({
    name: t.name,
    status: t.status,
    attempts: t.attempts,
    startedAt: iso(t.startedAt),
    readyAt: iso(t.readyAt),
    releasedAt: iso(t.releasedAt),
    durationMs: Option.getOrNull(t.durationMs),
    blockedBy: Option.getOrNull(t.blockedBy),
    stoppedBy: Option.getOrNull(t.stoppedBy),
    error: Option.getOrNull(Option.map(t.cause, prettyCause)),
    waitedFor: t.waitedFor,
    log: logs[t.name] ?? null
  })),
  dependencies: report.dependencies,
  precedences: report.precedences
})
