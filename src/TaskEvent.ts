/**
 * Everything observable about a run is an event. One stream of them drives
 * every view: the live terminal, plain CI lines, JSON lines, log files.
 * They are Schema classes, so they encode to JSON and decode back.
 *
 * @example
 * ```ts
 * import { Schema } from "effect"
 * import { TaskEvent } from "effect-taskgraph"
 *
 * const event = new TaskEvent.TaskStarted({ task: "build", timestamp: 0 })
 * const json = Schema.encodeSync(TaskEvent.TaskEvent)(event)          // { _tag: "TaskStarted", … }
 * const back = Schema.decodeUnknownSync(TaskEvent.TaskEvent)(json)    // a TaskStarted again
 * ```
 *
 * @since 0.1.0
 */
import { Schema } from "effect"

const base = {
  /** the task's name */
  task: Schema.String,
  /** milliseconds since the epoch (the run's `Clock`, so `TestClock` in tests) */
  timestamp: Schema.Number
}

/**
 * The task's run began.
 *
 * @example
 * ```ts
 * import { TaskEvent } from "effect-taskgraph"
 * new TaskEvent.TaskStarted({ task: "build", timestamp: Date.now() })
 * ```
 *
 * @since 0.1.0
 * @category models
 */
export class TaskStarted extends Schema.TaggedClass<TaskStarted>()("TaskStarted", {
  ...base,
  /** 1 for the first attempt, 2 for the first retry… */
  attempt: Schema.optionalWith(Schema.Number, { default: () => 1 })
}) {}

/**
 * The task's run succeeded: its value is published to its dependents.
 *
 * @example
 * ```ts
 * import { TaskEvent } from "effect-taskgraph"
 * new TaskEvent.TaskReady({ task: "build", timestamp: Date.now(), durationMs: 1200 })
 * ```
 *
 * @since 0.1.0
 * @category models
 */
export class TaskReady extends Schema.TaggedClass<TaskReady>()("TaskReady", {
  ...base,
  /** milliseconds from start to ready */
  durationMs: Schema.Number
}) {}

/**
 * Which stream a line of a task's output came from: a subprocess's `stdout`
 * or `stderr`, or an `Effect.log` (`log`). The one definition: `Task.output`
 * takes it and `Process.OutputStream` (a child's pipes) is its `stdout` and
 * `stderr`.
 *
 * @example
 * ```ts
 * import { Schema } from "effect"
 * import { TaskEvent } from "effect-taskgraph"
 *
 * Schema.is(TaskEvent.OutputStream)("log") // true
 * ```
 *
 * @since 0.1.0
 * @category schemas
 */
export const OutputStream = Schema.Literal("stdout", "stderr", "log")
/**
 * The type of the `TaskEvent.OutputStream` schema.
 *
 * @example
 * ```ts
 * import type { TaskEvent } from "effect-taskgraph"
 *
 * const stream: TaskEvent.OutputStream = "log"
 * ```
 *
 * @since 0.1.0
 * @category models
 */
export type OutputStream = typeof OutputStream.Type

/**
 * The level of a line a task logged with `Effect.log`, `Effect.logWarning`,
 * `Effect.logError`, …: the `_tag` of Effect's `LogLevel` (`LogLevel.fromLiteral`
 * turns it back into one). The reporters show every level but `Info` in front
 * of the line (`[build] WARN disk almost full`).
 *
 * @example
 * ```ts
 * import { LogLevel, Schema } from "effect"
 * import { TaskEvent } from "effect-taskgraph"
 *
 * Schema.is(TaskEvent.LogLevel)("Warning") // true
 * LogLevel.fromLiteral("Warning").label // "WARN"
 * ```
 *
 * @since 0.1.0
 * @category schemas
 */
export const LogLevel = Schema.Literal("Fatal", "Error", "Warning", "Info", "Debug", "Trace")
/**
 * The type of the `TaskEvent.LogLevel` schema.
 *
 * @example
 * ```ts
 * import type { TaskEvent } from "effect-taskgraph"
 *
 * const level: TaskEvent.LogLevel = "Warning"
 * ```
 *
 * @since 0.1.0
 * @category models
 */
export type LogLevel = typeof LogLevel.Type

/**
 * One line of output: a subprocess line (`stdout`/`stderr`), a `Task.output`
 * line, or an `Effect.log` (`log`, with the `level` it was logged at).
 *
 * @example
 * ```ts
 * import { TaskEvent } from "effect-taskgraph"
 * new TaskEvent.TaskOutput({ task: "build", timestamp: Date.now(), stream: "stderr", line: "warning: unused" })
 * new TaskEvent.TaskOutput({ task: "build", timestamp: Date.now(), stream: "log", line: "cache miss", level: "Warning" })
 * ```
 *
 * @since 0.1.0
 * @category models
 */
export class TaskOutput extends Schema.TaggedClass<TaskOutput>()("TaskOutput", {
  ...base,
  stream: OutputStream,
  line: Schema.String,
  /** the level of an `Effect.log` line (absent for a subprocess's lines and `Task.output`) */
  level: Schema.optional(LogLevel)
}) {}

/**
 * The task failed (its run, or a watcher after it was ready).
 *
 * @example
 * ```ts
 * import { TaskEvent } from "effect-taskgraph"
 * new TaskEvent.TaskFailed({ task: "build", timestamp: Date.now(), error: "Error: exit code 2" })
 * ```
 *
 * @since 0.1.0
 * @category models
 */
export class TaskFailed extends Schema.TaggedClass<TaskFailed>()("TaskFailed", {
  ...base,
  /** the rendered cause (`Cause.pretty`) */
  error: Schema.String
}) {}

/**
 * The task did not become ready within its timeout.
 *
 * @example
 * ```ts
 * import { TaskEvent } from "effect-taskgraph"
 * new TaskEvent.TaskTimedOut({ task: "wait for ssh", timestamp: Date.now(), timeoutMs: 30_000 })
 * ```
 *
 * @since 0.1.0
 * @category models
 */
export class TaskTimedOut extends Schema.TaggedClass<TaskTimedOut>()("TaskTimedOut", {
  ...base,
  timeoutMs: Schema.Number
}) {}

/**
 * The task was interrupted (another task failed, or the run was interrupted).
 *
 * @example
 * ```ts
 * import { TaskEvent } from "effect-taskgraph"
 * new TaskEvent.TaskInterrupted({ task: "run tests", timestamp: Date.now() })
 * // fail-fast: "lint" did not need "build", whose failure stopped the run
 * new TaskEvent.TaskInterrupted({ task: "lint", timestamp: Date.now(), stoppedBy: "build" })
 * ```
 *
 * @since 0.1.0
 * @category models
 */
export class TaskInterrupted extends Schema.TaggedClass<TaskInterrupted>()("TaskInterrupted", {
  ...base,
  /** the failed task it needed (its run used that task's resources) */
  blockedBy: Schema.optional(Schema.String),
  /** the failed task whose failure stopped the run (fail-fast); this one did not need it */
  stoppedBy: Schema.optional(Schema.String)
}) {}

/**
 * The task never started because a task it depends on failed (or the run stopped).
 *
 * @example
 * ```ts
 * import { TaskEvent } from "effect-taskgraph"
 * new TaskEvent.TaskSkipped({ task: "package", timestamp: Date.now(), blockedBy: "build" })
 * // fail-fast: "docs" does not need "build", whose failure stopped the run
 * new TaskEvent.TaskSkipped({ task: "docs", timestamp: Date.now(), stoppedBy: "build" })
 * ```
 *
 * @since 0.1.0
 * @category models
 */
export class TaskSkipped extends Schema.TaggedClass<TaskSkipped>()("TaskSkipped", {
  ...base,
  /** the failed task it needed (directly or through other tasks) */
  blockedBy: Schema.optional(Schema.String),
  /** the failed task whose failure stopped the run (fail-fast) before this one, which did not need it, could start */
  stoppedBy: Schema.optional(Schema.String)
}) {}

/**
 * The task's resources were released (its scope closed).
 *
 * @example
 * ```ts
 * import { TaskEvent } from "effect-taskgraph"
 * new TaskEvent.TaskReleased({ task: "start vm", timestamp: Date.now() })
 * ```
 *
 * @since 0.1.0
 * @category models
 */
export class TaskReleased extends Schema.TaggedClass<TaskReleased>()("TaskReleased", base) {}

/**
 * The run ended; `task` is the graph's name.
 *
 * @example
 * ```ts
 * import { TaskEvent } from "effect-taskgraph"
 * new TaskEvent.RunFinished({ task: "ci", timestamp: Date.now(), status: "succeeded", durationMs: 5000 })
 * ```
 *
 * @since 0.1.0
 * @category models
 */
export class RunFinished extends Schema.TaggedClass<RunFinished>()("RunFinished", {
  ...base,
  status: Schema.Literal("succeeded", "failed", "interrupted"),
  durationMs: Schema.Number
}) {}

/**
 * The union of all events, as a Schema: `Schema.encodeSync(TaskEvent)(e)`
 * gives JSON-ready data, `Schema.decodeUnknownSync(TaskEvent)` reads it back.
 *
 * @example
 * ```ts
 * import { Schema } from "effect"
 * import { TaskEvent } from "effect-taskgraph"
 *
 * const line = JSON.stringify(Schema.encodeSync(TaskEvent.TaskEvent)(
 *   new TaskEvent.TaskReady({ task: "vm", timestamp: 1, durationMs: 1 })))
 * ```
 *
 * @since 0.1.0
 * @category schemas
 */
export const TaskEvent = Schema.Union(
  TaskStarted,
  TaskReady,
  TaskOutput,
  TaskFailed,
  TaskTimedOut,
  TaskInterrupted,
  TaskSkipped,
  TaskReleased,
  RunFinished
)

/**
 * Any event of a run (the type of the `TaskEvent.TaskEvent` schema).
 *
 * @example
 * ```ts
 * import type { TaskEvent } from "effect-taskgraph"
 *
 * const describe = (event: TaskEvent.TaskEvent): string =>
 *   event._tag === "RunFinished" ? "the run is over" : `${event._tag} ${event.task}`
 * ```
 *
 * @since 0.1.0
 * @category schemas
 */
export type TaskEvent = typeof TaskEvent.Type

/**
 * The JSON form of an event.
 *
 * @example
 * ```ts
 * import { Schema } from "effect"
 * import { TaskEvent } from "effect-taskgraph"
 *
 * declare const event: TaskEvent.TaskEvent
 * const encoded: TaskEvent.Encoded = Schema.encodeSync(TaskEvent.TaskEvent)(event)
 * ```
 *
 * @since 0.1.0
 * @category models
 */
export type Encoded = typeof TaskEvent.Encoded

/**
 * Encodes an event to one JSON line (no trailing newline).
 *
 * @example
 * ```ts
 * import { TaskEvent } from "effect-taskgraph"
 * TaskEvent.toJsonLine(new TaskEvent.TaskReleased({ task: "vm", timestamp: 5 }))
 * // '{"_tag":"TaskReleased","task":"vm","timestamp":5}'
 * ```
 *
 * @since 0.1.0
 * @category codecs
 */
export const toJsonLine = (event: TaskEvent): string => JSON.stringify(Schema.encodeSync(TaskEvent)(event))

/**
 * Decodes one JSON line back into an event.
 *
 * @example
 * ```ts
 * import { TaskEvent } from "effect-taskgraph"
 * TaskEvent.fromJsonLine('{"_tag":"TaskReleased","task":"vm","timestamp":5}')
 * ```
 *
 * @since 0.1.0
 * @category codecs
 */
export const fromJsonLine = (line: string): TaskEvent => Schema.decodeUnknownSync(TaskEvent)(JSON.parse(line))
