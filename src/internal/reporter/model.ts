/**
 * What the reporters know about each task, built from the event stream
 * alone (so a reporter can be fed recorded events too).
 *
 * @internal
 */
import type { TaskState } from "../../RunReport.js"
import type * as TaskEvent from "../../TaskEvent.js"
import * as Text from "./text.js"

/** @internal */
export interface TaskView {
  readonly name: string
  readonly index: number
  state: TaskState
  /** its run is being interrupted, or its resources released, after a stop request */
  stopping: boolean
  attempt: number
  startedAt: number | undefined
  /** when its run ended (ready, failed, timed out, interrupted) */
  endedAt: number | undefined
  releasedAt: number | undefined
  lastLine: string | undefined
  /** the level of `lastLine` when it was an `Effect.log` line */
  lastLevel: TaskEvent.LogLevel | undefined
  /** when `lastLine` was printed */
  lastLineAt: number | undefined
  /** the last output lines (any stream), oldest first */
  readonly tail: Array<string>
  lines: number
  error: string | undefined
  timeoutMs: number | undefined
  blockedBy: string | undefined
  stoppedBy: string | undefined
  /** the tasks it waits for (data and precedence) */
  readonly waitsFor: ReadonlyArray<string>
}

/** @internal */
export interface Model {
  readonly graph: string
  readonly tasks: ReadonlyArray<TaskView>
  readonly byName: ReadonlyMap<string, TaskView>
  finished: TaskEvent.RunFinished | undefined
  firstTimestamp: number | undefined
}

/** The minimal description of a graph a model needs (a `TaskGraph.Plan` fits). */
export interface PlanLike {
  readonly graph: string
  readonly tasks: ReadonlyArray<string>
  readonly dependencies: ReadonlyArray<{ readonly from: string; readonly to: string }>
  readonly precedences: ReadonlyArray<{ readonly before: string; readonly after: string }>
}

/** @internal */
export const make = (plan: PlanLike, tailSize: number): Model & { readonly tailSize: number } => {
  const waits = new Map<string, Array<string>>(plan.tasks.map((t) => [t, []]))
  const add = (to: string, from: string) => {
    const list = waits.get(to)
    if (list !== undefined && !list.includes(from)) list.push(from)
  }
  for (const e of plan.dependencies) add(e.to, e.from)
  for (const e of plan.precedences) add(e.after, e.before)
  const tasks: Array<TaskView> = plan.tasks.map((name, index) => view(name, index, waits.get(name) ?? []))
  return {
    graph: plan.graph,
    tasks,
    byName: new Map(tasks.map((t) => [t.name, t])),
    finished: undefined,
    firstTimestamp: undefined,
    tailSize
  }
}

const view = (name: string, index: number, waitsFor: ReadonlyArray<string>): TaskView => ({
    name,
    index,
    state: "pending",
    stopping: false,
    attempt: 0,
    startedAt: undefined,
    endedAt: undefined,
    releasedAt: undefined,
    lastLine: undefined,
    lastLevel: undefined,
    lastLineAt: undefined,
    tail: [],
    lines: 0,
    error: undefined,
    timeoutMs: undefined,
    blockedBy: undefined,
    stoppedBy: undefined,
    waitsFor
  })

/** Applies one event; returns the task it concerned, if any. */
export const apply = (
  model: Model & { readonly tailSize: number },
  event: TaskEvent.TaskEvent
): TaskView | undefined => {
  if (model.firstTimestamp === undefined) model.firstTimestamp = event.timestamp
  if (event._tag === "RunFinished") {
    model.finished = event
    for (const t of model.tasks) t.stopping = false
    return undefined
  }
  let t = model.byName.get(event.task)
  if (t === undefined) {
    // a task of a graph run inside a task (graphs inside tasks): it joins the view when first heard of
    t = view(event.task, model.tasks.length, [])
    ;(model.tasks as Array<TaskView>).push(t)
    ;(model.byName as Map<string, TaskView>).set(t.name, t)
  }
  switch (event._tag) {
    case "TaskStarted":
      t.state = "running"
      t.attempt = event.attempt
      if (event.attempt === 1 || t.startedAt === undefined) t.startedAt = event.timestamp
      break
    case "TaskOutput": {
      const text = Text.outputText(event)
      t.lastLine = text
      t.lastLevel = event.level
      t.lastLineAt = event.timestamp
      t.lines++
      t.tail.push(text)
      if (t.tail.length > model.tailSize) t.tail.shift()
      break
    }
    case "TaskReady":
      t.state = "ready"
      t.endedAt = event.timestamp
      break
    case "TaskFailed":
      t.state = "failed"
      t.error = event.error
      t.endedAt ??= event.timestamp
      t.stopping = false
      break
    case "TaskTimedOut":
      t.state = "timed out"
      t.timeoutMs = event.timeoutMs
      t.endedAt = event.timestamp
      t.stopping = false
      break
    case "TaskInterrupted":
      t.state = "interrupted"
      t.blockedBy = event.blockedBy
      t.stoppedBy = event.stoppedBy
      t.endedAt = event.timestamp
      t.stopping = false
      break
    case "TaskSkipped":
      t.state = "skipped"
      t.blockedBy = event.blockedBy
      t.stoppedBy = event.stoppedBy
      t.endedAt = event.timestamp
      break
    case "TaskReleased":
      if (t.state === "ready") t.state = "released"
      t.releasedAt = event.timestamp
      t.stopping = false
      break
  }
  return t
}

/** Marks what is still running or held as stopping (after a stop request). */
export const markStopping = (model: Model, names: ReadonlyArray<string>): void => {
  for (const name of names) {
    const t = model.byName.get(name)
    if (t !== undefined && (t.state === "running" || t.state === "ready")) t.stopping = true
  }
}

/** Counts by kind, for headers. */
export const counts = (model: Model) => {
  let done = 0
  let running = 0
  let failed = 0
  let pending = 0
  for (const t of model.tasks) {
    switch (t.state) {
      case "running":
        running++
        break
      case "pending":
        pending++
        break
      case "failed":
      case "timed out":
        failed++
        done++
        break
      default:
        done++
    }
  }
  return { done, running, failed, pending, total: model.tasks.length }
}
