/**
 * Views of a run's event stream. One stream of `TaskEvent`s drives them all:
 *
 * - `pretty`: a live terminal view, one line per task, redrawn in place;
 * - `plain`: `[task] line` prefixed lines and state changes, for CI and pipes;
 * - `json`: one Schema-encoded event per line, for machines;
 * - `files(dir)`: one log per task, a combined log, the report, the graph;
 * - `junit(path)`: a JUnit XML file, one testcase per task;
 * - `html(path)`: one self-contained HTML page of the run: the executed
 *   graph, the timeline, every task's output and failure.
 *
 * `combine` runs several at once; `auto` picks `pretty` on a terminal and
 * `plain` elsewhere (CI, pipes). `Main.run` / `Main.runMain` wire them to a
 * run; `make` builds your own.
 *
 * @example
 * ```ts
 * import { Effect } from "effect"
 * import { Reporter, Task, TaskGraph } from "effect-taskgraph"
 * import { Main } from "effect-taskgraph/node"
 *
 * const graph = TaskGraph.make("hello", [Task.make("greet", { run: Effect.log("hi") })])
 * const program = Main.run(graph, {
 *   reporter: Reporter.combine(Reporter.auto(), Reporter.files("logs"), Reporter.junit("junit.xml"))
 * })
 * ```
 *
 * @since 0.1.0
 */
import * as fs from "node:fs"
import * as os from "node:os"
import * as nodePath from "node:path"
import { makeDirectorySync } from "./internal/makeDirectory.js"
import type { Scope } from "effect"
import { Clock, Data, Duration, Effect, Schedule } from "effect"
import * as Html from "./internal/html/load.js"
import * as FilesImpl from "./internal/reporter/files.js"
import * as Guard from "./internal/reporter/guard.js"
import * as JunitImpl from "./internal/reporter/junit.js"
import * as Model from "./internal/reporter/model.js"
import * as PlainImpl from "./internal/reporter/plain.js"
import * as PrettyImpl from "./internal/reporter/pretty.js"
import * as Text from "./internal/reporter/text.js"
import * as TaskEvent from "./TaskEvent.js"
import type * as RunReport from "./RunReport.js"
import type { Plan } from "./TaskGraph.js"

/**
 * Where a terminal reporter writes: a stream-like sink with its size, if known.
 *
 * @example
 * ```ts
 * import { Reporter } from "effect-taskgraph"
 *
 * const lines: Array<string> = []
 * const output: Reporter.Output = { write: (text) => lines.push(text), columns: 100 }
 * const reporter = Reporter.plain({ output })
 * ```
 *
 * @since 0.1.0
 * @category models
 */
export interface Output {
  readonly write: (text: string) => unknown
  readonly columns?: number | undefined
  readonly rows?: number | undefined
  readonly isTTY?: boolean | undefined
}

/**
 * Where a reporter wrote something a person may want to open.
 *
 * @example
 * ```ts
 * import type { Reporter } from "effect-taskgraph"
 *
 * const artifact: Reporter.Artifact = { label: "junit", path: "./junit.xml" }
 * ```
 *
 * @since 0.1.0
 * @category models
 */
export interface Artifact {
  /** e.g. "logs", "junit" */
  readonly label: string
  readonly path: string
}

/**
 * A task still busy after a stop request.
 *
 * @example
 * ```ts
 * import type { Reporter } from "effect-taskgraph"
 *
 * const stopping: Reporter.StoppingTask = { name: "start vm", phase: "releasing" }
 * ```
 *
 * @since 0.1.0
 * @category models
 */
export interface StoppingTask {
  readonly name: string
  /** `interrupting`: its run is being interrupted; `releasing`: its resources are being released */
  readonly phase: "interrupting" | "releasing"
}

/**
 * A program still owned by the runner after a stop request.
 *
 * @example
 * ```ts
 * import type { Reporter } from "effect-taskgraph"
 *
 * const process: Reporter.StoppingProcess = { pid: 4242, command: "qemu-system-x86_64", args: ["-nographic"], state: "stopping" }
 * ```
 *
 * @since 0.1.0
 * @category models
 */
export interface StoppingProcess {
  readonly pid: number
  readonly command: string
  readonly args: ReadonlyArray<string>
  readonly state: "running" | "stopping"
}

/**
 * The run was asked to stop (Ctrl+C, SIGTERM, an interruption) and is
 * cleaning up. Sent once when the request arrives, then again while
 * something is still stopping.
 *
 * @example
 * ```ts
 * import type { Reporter } from "effect-taskgraph"
 *
 * const show = (notice: Reporter.Stopping): string =>
 *   `${notice.reason}: stopping ${notice.tasks.length} tasks, ${notice.processes.length} processes`
 * ```
 *
 * @since 0.1.0
 * @category models
 */
export interface Stopping {
  readonly _tag: "Stopping"
  /** what asked: "SIGINT", "SIGTERM", "SIGHUP", or "interrupted" */
  readonly reason: string
  /** the first notice of this stop request */
  readonly first: boolean
  /** when the stop request arrived (the run's clock) */
  readonly since: number
  readonly now: number
  readonly tasks: ReadonlyArray<StoppingTask>
  readonly processes: ReadonlyArray<StoppingProcess>
  /** how to force, e.g. "press Ctrl+C again to force" */
  readonly hint: string | undefined
}

/**
 * A log line that did not come from inside a task (e.g. a finalizer, the main program).
 *
 * @example
 * ```ts
 * import type { Reporter } from "effect-taskgraph"
 *
 * const log: Reporter.Log = { _tag: "Log", level: "WARN", message: "disk almost full", task: "build" }
 * ```
 *
 * @since 0.1.0
 * @category models
 */
export interface Log {
  readonly _tag: "Log"
  readonly level: string
  readonly message: string
  /** the `task` log annotation, if the fiber had one */
  readonly task: string | undefined
}

/**
 * Something a reporter may show besides the events.
 *
 * @example
 * ```ts
 * import { Console, Effect } from "effect"
 * import { Reporter } from "effect-taskgraph"
 *
 * const notices = Reporter.make("notices", () =>
 *   Effect.succeed({
 *     onNotice: (notice: Reporter.Notice) => notice._tag === "Log" ? Console.error(notice.message) : Console.error(notice.reason)
 *   }))
 * ```
 *
 * @since 0.1.0
 * @category models
 */
export type Notice = Stopping | Log

/**
 * The end of a run.
 *
 * @example
 * ```ts
 * import { Console, Effect } from "effect"
 * import { Reporter } from "effect-taskgraph"
 *
 * const summary = Reporter.make("summary", () =>
 *   Effect.succeed({ onEnd: (end: Reporter.End) => Console.log(`${end.report.status}, ${end.artifacts.length} artifacts`) }))
 * ```
 *
 * @since 0.1.0
 * @category models
 */
export interface End {
  readonly report: RunReport.RunReport
  /** every artifact of every reporter of the run, for the summary */
  readonly artifacts: ReadonlyArray<Artifact>
  /** what stopped the run early, if something did ("SIGINT"…) */
  readonly stoppedBy: string | undefined
}

/**
 * A forced exit (second Ctrl+C): last words, written synchronously.
 *
 * @example
 * ```ts
 * import { Effect } from "effect"
 * import { Reporter } from "effect-taskgraph"
 *
 * const lastWords = Reporter.make("last words", () =>
 *   Effect.succeed({ onForce: (forced: Reporter.Forced) => void process.stderr.write(`killed ${forced.killed} groups\n`) }))
 * ```
 *
 * @since 0.1.0
 * @category models
 */
export interface Forced {
  readonly reason: string
  /** how many process groups were killed */
  readonly killed: number
}


/**
 * Marks every reporter (`isReporter` recognises them by it).
 *
 * @example
 * ```ts
 * import { Reporter } from "effect-taskgraph"
 *
 * const reporter = Reporter.plain()
 * reporter[Reporter.TypeId] === Reporter.TypeId // true
 * ```
 *
 * @since 0.1.0
 * @category type ids
 */
export const TypeId: unique symbol = Symbol.for("effect-taskgraph/Reporter")
/**
 * The type of `Reporter.TypeId`.
 *
 * @example
 * ```ts
 * import type { Reporter } from "effect-taskgraph"
 *
 * type Branded = { readonly [Reporter.TypeId]: Reporter.TypeId }
 * ```
 *
 * @since 0.1.0
 * @category type ids
 */
export type TypeId = typeof TypeId

/**
 * A reporter: given the plan of a run, it opens a `Session` (in the run's
 * scope) that receives the events, notices, and the end.
 *
 * @example
 * ```ts
 * import { Reporter } from "effect-taskgraph"
 *
 * const reporter: Reporter.Reporter = Reporter.combine(Reporter.plain(), Reporter.junit("junit.xml"))
 * console.log(reporter.name) // "plain+junit"
 * ```
 *
 * @since 0.1.0
 * @category models
 */
export interface Reporter {
  readonly [TypeId]: TypeId
  readonly name: string
  readonly open: (plan: Plan) => Effect.Effect<Session, ReporterError, Scope.Scope>
}

/**
 * One reporter attached to one run.
 *
 * @example
 * ```ts
 * import { Console, Effect } from "effect"
 * import { Reporter } from "effect-taskgraph"
 *
 * const session: Partial<Reporter.Session> = {
 *   onEvents: (events) => Console.log(`${events.length} events`),
 *   onEnd: (end) => Console.log(end.report.status)
 * }
 * const counter = Reporter.make("counter", () => Effect.succeed(session))
 * ```
 *
 * @since 0.1.0
 * @category models
 */
export interface Session {
  /** files it writes, listed in the summary ("logs: ./logs") */
  readonly artifacts: ReadonlyArray<Artifact>
  /** events in order, in batches */
  readonly onEvents: (events: ReadonlyArray<TaskEvent.TaskEvent>) => Effect.Effect<void>
  /** a stop request and its progress, or a log line from outside the tasks */
  readonly onNotice: (notice: Notice) => Effect.Effect<void>
  /** the run is over (after `RunFinished`): the final report */
  readonly onEnd: (end: End) => Effect.Effect<void>
  /** a forced exit is about to happen: last words, synchronously, nothing may wait */
  readonly onForce: (forced: Forced) => void
}

/**
 * A reporter could not start: typically, a log directory or report file
 * that cannot be written.
 *
 * @example
 * ```ts
 * import { Effect } from "effect"
 * import { Reporter } from "effect-taskgraph"
 * import { Main } from "effect-taskgraph/node"
 * declare const graph: Parameters<typeof Main.run>[0]
 * Main.run(graph, { reporter: Reporter.files("/root/logs") }).pipe(
 *   Effect.catchTag("ReporterError", (e) => Effect.logError(e.message))
 * )
 * ```
 *
 * @since 0.1.0
 * @category errors
 */
export class ReporterError extends Data.TaggedError("ReporterError")<{
  readonly reporter: string
  readonly path: string
  readonly reason: string
}> {
  override get message() {
    return `the ${this.reporter} reporter cannot write ${this.path}: ${this.reason}. Choose a writable path.`
  }
}

const noopSession: Session = {
  artifacts: [],
  onEvents: () => Effect.void,
  onNotice: () => Effect.void,
  onEnd: () => Effect.void,
  onForce: () => {}
}

/**
 * Makes a reporter from a function that opens a session. Every handler
 * defaults to doing nothing.
 *
 * @example
 * ```ts
 * import { Console, Effect } from "effect"
 * import { Reporter } from "effect-taskgraph"
 *
 * const failures = Reporter.make("failures", () =>
 *   Effect.succeed({
 *     onEvents: (events) =>
 *       Effect.forEach(events, (e) => e._tag === "TaskFailed" ? Console.error(`${e.task} failed`) : Effect.void, { discard: true })
 *   }))
 * ```
 *
 * @since 0.1.0
 * @category constructors
 */
export const make = (
  name: string,
  open: (plan: Plan) => Effect.Effect<Partial<Session>, ReporterError, Scope.Scope>
): Reporter => ({
  [TypeId]: TypeId,
  name,
  open: (plan) => Effect.map(open(plan), (session) => ({ ...noopSession, ...session }))
})

/**
 * Is this value a reporter?
 *
 * @example
 * ```ts
 * import { Reporter } from "effect-taskgraph"
 * Reporter.isReporter(Reporter.plain()) // true
 * ```
 *
 * @since 0.1.0
 * @category guards
 */
export const isReporter = (u: unknown): u is Reporter => typeof u === "object" && u !== null && TypeId in u

// ---- pretty -----------------------------------------------------------------

/**
 * Options of `pretty`.
 *
 * @example
 * ```ts
 * import { Reporter } from "effect-taskgraph"
 *
 * const options: Reporter.PrettyOptions = { color: false, tailLines: 20, refresh: "200 millis" }
 * const reporter = Reporter.pretty(options)
 * ```
 *
 * @since 0.1.0
 * @category models
 */
export interface PrettyOptions {
  /** where to draw (default `process.stdout`) */
  readonly output?: Output | undefined
  /** colours (default: on, unless `NO_COLOR` is set or `TERM=dumb`) */
  readonly color?: boolean | undefined
  /** Unicode symbols (default: when the locale is UTF-8) */
  readonly unicode?: boolean | undefined
  /** how many last output lines a failure shows (default 8) */
  readonly tailLines?: number | undefined
  /** time between redraws (default 80 ms) */
  readonly refresh?: Duration.DurationInput | undefined
  /** fixed size instead of the output's (default: the terminal's, else 80×24) */
  readonly columns?: number | undefined
  readonly rows?: number | undefined
}

/**
 * The live terminal view: one line per task with its state, a spinner while
 * it runs, its elapsed time and its last output line; a failed task's error
 * and last output lines printed above the view; while a run stops, what is
 * still stopping and how to force. Redrawn in place, a whole frame per
 * write, never wider than the terminal. Respects `NO_COLOR`. Ends with the
 * summary.
 *
 * @example
 * ```ts
 * import { Reporter, TaskGraph } from "effect-taskgraph"
 * import { Main } from "effect-taskgraph/node"
 * declare const graph: TaskGraph.TaskGraph<never, never, never>
 * Main.runMain(graph, { reporter: Reporter.pretty({ tailLines: 20 }) })
 * ```
 *
 * @since 0.1.0
 * @category constructors
 */
export const pretty = (options: PrettyOptions = {}): Reporter =>
  make("pretty", (plan) =>
    Effect.gen(function*() {
      const output = options.output ?? process.stdout
      const view = PrettyImpl.make(plan, {
        output,
        color: options.color ?? Text.colorFromEnv(),
        unicode: options.unicode ?? Text.unicodeFromEnv(),
        tailLines: options.tailLines ?? 8,
        columns: options.columns,
        rows: options.rows
      })
      const restore = () => view.close()
      const now = yield* Clock.currentTimeMillis
      yield* Effect.acquireRelease(
        Effect.sync(() => {
          view.begin(now)
          process.once("exit", restore)
        }),
        () =>
          Effect.sync(() => {
            view.close()
            process.off("exit", restore)
          })
      )
      yield* Effect.forkScoped(
        Effect.repeat(
          Effect.flatMap(Clock.currentTimeMillis, (t) => Effect.sync(() => view.tick(t))),
          Schedule.spaced(options.refresh ?? Duration.millis(80))
        )
      )
      return {
        onEvents: (events) => Effect.sync(() => view.events(events)),
        onNotice: (notice) => Effect.sync(() => view.notice(notice)),
        onEnd: (end) => Effect.flatMap(Clock.currentTimeMillis, (t) => Effect.sync(() => view.end(end, t))),
        onForce: (forced) => view.force(forced, Date.now())
      }
    }))

// ---- plain ------------------------------------------------------------------

/**
 * Options of `plain`.
 *
 * @example
 * ```ts
 * import { Reporter } from "effect-taskgraph"
 *
 * const options: Reporter.PlainOptions = { summary: false }
 * const reporter = Reporter.plain(options)
 * ```
 *
 * @since 0.1.0
 * @category models
 */
export interface PlainOptions {
  /** where to write (default `process.stdout`) */
  readonly output?: Output | undefined
  /** print the summary at the end (default true) */
  readonly summary?: boolean | undefined
}

/**
 * Plain lines for CI and pipes: each output line as `[task] line`, each state
 * change as `[task] -- started`, `-- ready in 1.2s`, `-- FAILED after 0.3s`
 * (followed by the error), `-- skipped (blocked by …)`; stop requests as
 * `== SIGINT: stopping …`; then the summary. Nothing is redrawn.
 *
 * @example
 * ```ts
 * import { Reporter, TaskGraph } from "effect-taskgraph"
 * import { Main } from "effect-taskgraph/node"
 * declare const graph: TaskGraph.TaskGraph<never, never, never>
 * Main.runMain(graph, { reporter: Reporter.plain() })
 * // [compile] -- started
 * // [compile] main.c: warning: unused variable 'x'
 * // [compile] -- done in 1.2s
 * ```
 *
 * @since 0.1.0
 * @category constructors
 */
export const plain = (options: PlainOptions = {}): Reporter =>
  make("plain", (plan) =>
    Effect.sync(() => {
      const view = PlainImpl.make(plan, {
        output: options.output ?? process.stdout,
        summary: options.summary ?? true,
        outputLines: true,
        stoppingEveryMs: 5000
      })
      view.begin()
      return {
        onEvents: (events) => Effect.sync(() => view.events(events)),
        onNotice: (notice) => Effect.sync(() => view.notice(notice)),
        onEnd: (end) => Effect.sync(() => view.end(end)),
        onForce: (forced) => view.force(forced)
      }
    }))

// ---- json -------------------------------------------------------------------

/**
 * Options of `json`.
 *
 * @example
 * ```ts
 * import { Reporter } from "effect-taskgraph"
 *
 * const options: Reporter.JsonOptions = { messages: null }
 * const reporter = Reporter.json(options)
 * ```
 *
 * @since 0.1.0
 * @category models
 */
export interface JsonOptions {
  /** where the event lines go (default `process.stdout`) */
  readonly output?: Output | undefined
  /** where stop notices and the summary go, as text (default `process.stderr`; `null`: nowhere) */
  readonly messages?: Output | null | undefined
}

/**
 * One JSON object per line per event, encoded with the `TaskEvent` Schema
 * (`TaskEvent.fromJsonLine` decodes them back). Nothing else goes to that
 * output: stop notices and the summary go to stderr as text.
 *
 * @example
 * ```ts
 * import { Reporter, TaskGraph } from "effect-taskgraph"
 * import { Main } from "effect-taskgraph/node"
 * declare const graph: TaskGraph.TaskGraph<never, never, never>
 * Main.runMain(graph, { reporter: Reporter.json() })
 * // {"_tag":"TaskStarted","task":"compile","timestamp":1732270000000,"attempt":1}
 * ```
 *
 * @since 0.1.0
 * @category constructors
 */
export const json = (options: JsonOptions = {}): Reporter =>
  make("json", (plan) =>
    Effect.sync(() => {
      const output = options.output ?? process.stdout
      const messages = options.messages === undefined ? process.stderr : options.messages
      const text = messages === null
        ? undefined
        : PlainImpl.make(plan, { output: messages, summary: true, outputLines: false, stoppingEveryMs: 5000 })
      return {
        onEvents: (events) =>
          Effect.sync(() => {
            if (events.length === 0) return
            let out = ""
            for (const event of events) out += TaskEvent.toJsonLine(event) + "\n"
            try {
              output.write(out)
            } catch {
              // the reader went away
            }
          }),
        onNotice: (notice) => Effect.sync(() => text?.notice(notice)),
        onEnd: (end) => Effect.sync(() => text?.end(end)),
        onForce: (forced) => text?.force(forced)
      }
    }))

// ---- files ------------------------------------------------------------------

/**
 * Writes the run's logs to a directory (created if needed):
 *
 * - `run.log`: every line of every task with an ISO timestamp and the task's
 *   name (`2026-01-01T10:00:01.234Z [compile] err main.c:3: warning…`), and
 *   every state change;
 * - `tasks/NAME.log`: each task's own lines, as its programs printed them;
 * - `events.jsonl`: every event, Schema-encoded;
 * - at the end: `report.json`, `summary.txt`, `graph.mmd` (the executed
 *   graph, Mermaid) and `gantt.mmd` (the timeline).
 *
 * Writes are synchronous: what was logged is on disk even after a forced exit.
 *
 * @example
 * ```ts
 * import { Reporter, TaskGraph } from "effect-taskgraph"
 * import { Main } from "effect-taskgraph/node"
 * declare const graph: TaskGraph.TaskGraph<never, never, never>
 * Main.runMain(graph, { reporter: [Reporter.auto(), Reporter.files("build/logs")] })
 * ```
 *
 * @since 0.1.0
 * @category constructors
 */
export const files = (dir: string): Reporter =>
  make("files", (plan) =>
    Effect.gen(function*() {
      const writer = yield* Effect.acquireRelease(
        Effect.try({
          try: () => FilesImpl.open(plan, dir),
          catch: (error) => new ReporterError({ reporter: "files", path: dir, reason: reason(error) })
        }),
        (writer) => Effect.sync(() => writer.close())
      )
      return {
        artifacts: [{ label: "logs", path: writer.dir }],
        onEvents: (events) => Effect.sync(() => writer.events(events)),
        onNotice: (notice) => Effect.sync(() => writer.notice(notice)),
        onEnd: (end) => Effect.sync(() => writer.end(end)),
        onForce: (forced) => writer.force(forced)
      }
    }))

const reason = (error: unknown): string => {
  const e = error as NodeJS.ErrnoException
  if (e?.code === "EACCES" || e?.code === "EPERM") return "permission denied"
  if (e?.code === "ENOTDIR" || e?.code === "EEXIST") return "a file is in the way of the directory"
  if (e?.code === "EROFS") return "read-only file system"
  return e instanceof Error ? e.message : String(error)
}

// ---- junit ------------------------------------------------------------------

/**
 * Options of `junit`.
 *
 * @example
 * ```ts
 * import { Reporter } from "effect-taskgraph"
 *
 * const options: Reporter.JunitOptions = { tailLines: 200 }
 * const reporter = Reporter.junit("reports/junit.xml", options)
 * ```
 *
 * @since 0.1.0
 * @category models
 */
export interface JunitOptions {
  /** how many last output lines each testcase keeps (default 50) */
  readonly tailLines?: number | undefined
}

/**
 * Writes a JUnit XML report at the end of the run: one testcase per task
 * (classname: the graph's name), failed and timed-out tasks with a
 * `<failure>` holding the error and the last lines of output, skipped and
 * interrupted tasks as `<skipped>` with the reason, each task's last output
 * lines in `<system-out>`. CI systems (GitLab, Jenkins, GitHub actions that
 * read JUnit) show it natively.
 *
 * @example
 * ```ts
 * import { Reporter, TaskGraph } from "effect-taskgraph"
 * import { Main } from "effect-taskgraph/node"
 * declare const graph: TaskGraph.TaskGraph<never, never, never>
 * Main.runMain(graph, { reporter: [Reporter.plain(), Reporter.junit("reports/junit.xml")] })
 * ```
 *
 * @since 0.1.0
 * @category constructors
 */
export const junit = (path: string, options: JunitOptions = {}): Reporter =>
  make("junit", (plan) =>
    Effect.gen(function*() {
      const target = nodePath.resolve(path)
      yield* Effect.try({
        try: () => {
          makeDirectorySync(nodePath.dirname(target))
          fs.accessSync(nodePath.dirname(target), fs.constants.W_OK)
          if (fs.existsSync(target) && fs.statSync(target).isDirectory()) {
            throw new Error("it is a directory; give the path of a file, e.g. junit.xml")
          }
        },
        catch: (error) => new ReporterError({ reporter: "junit", path: target, reason: reason(error) })
      })
      const model = Model.make(plan, options.tailLines ?? 50)
      return {
        artifacts: [{ label: "junit", path: target }],
        onEvents: (events) => Effect.sync(() => events.forEach((e) => Model.apply(model, e))),
        onEnd: (end) =>
          Effect.sync(() => {
            const tails = new Map(model.tasks.map((t) => [t.name, t.tail.map(Text.stripAnsi)]))
            const errors = new Map<string, string>()
            for (const t of model.tasks) if (t.error !== undefined) errors.set(t.name, t.error)
            const xml = JunitImpl.render(end.report, tails, errors)
            const temp = `${target}.${process.pid}.tmp`
            try {
              fs.writeFileSync(temp, xml)
              fs.renameSync(temp, target)
            } catch (error) {
              process.stderr.write(`effect-taskgraph: could not write ${target}: ${reason(error)}\n`)
            }
          })
      }
    }))

// ---- html -------------------------------------------------------------------

/**
 * Options of `html`.
 *
 * @example
 * ```ts
 * import { Reporter } from "effect-taskgraph"
 *
 * const options: Reporter.HtmlOptions = { maxDrawn: 300, tailLines: 500 }
 * const reporter = Reporter.html(".taskgraph/report.html", options)
 * ```
 *
 * @since 0.1.0
 * @category models
 */
export interface HtmlOptions {
  /** above this many tasks the graph is drawn condensed: layers with counts per status (default 150) */
  readonly maxDrawn?: number | undefined
  /** how many first output lines of each task the page keeps (default 200) */
  readonly headLines?: number | undefined
  /** how many last output lines of each task the page keeps (default 2,000) */
  readonly tailLines?: number | undefined
}

/**
 * Writes one self-contained HTML page of the run at its end — after
 * success, failure, Ctrl+C or an interruption (and, best effort, on a forced
 * exit). It opens offline in any browser and makes no request: styles,
 * script, drawings and data are inlined.
 *
 * It shows the executed graph (laid out by `@dagrejs/dagre`, nodes coloured
 * by status with their durations, data edges labelled with the tag,
 * precedence edges dashed, the critical path thick; a graph run inside a
 * task as a labelled box of its tasks, a tag from the caller's context as an
 * input node), the timeline (run phase
 * and resource lifetime of every task), and per task its status, attempts,
 * times, output lines (searchable; long logs collapsed to their tail), the
 * error and the pretty `Cause` of a failure, and what blocked a skipped
 * task. Output is shown as text, never as markup. Graphs above `maxDrawn`
 * tasks are drawn condensed; every task stays in the table.
 *
 * The directory is created, and the file proven writable, before the run
 * starts: an unwritable path is a `ReporterError` before any task runs.
 *
 * @example
 * ```ts
 * import { Reporter, TaskGraph } from "effect-taskgraph"
 * import { Main } from "effect-taskgraph/node"
 * declare const graph: TaskGraph.TaskGraph<never, never, never>
 * Main.runMain(graph, { reporter: [Reporter.html(".taskgraph/report.html"), Reporter.auto()] })
 * // or: Main.runMain(graph, { html: ".taskgraph/report.html" })
 * ```
 *
 * @since 0.1.0
 * @category constructors
 */
export const html = (path: string, options: HtmlOptions = {}): Reporter =>
  make("html", (plan) =>
    Effect.gen(function*() {
      const target = nodePath.resolve(path)
      const { Data: HtmlData, File: HtmlFile, Lines: HtmlLines, Render: HtmlRender } = yield* Html.load.pipe(
        Effect.mapError((e) => new ReporterError({ reporter: "html", path: target, reason: e.message }))
      )
      yield* Effect.try({
        try: () => HtmlFile.prepare(target),
        catch: (error) => new ReporterError({ reporter: "html", path: target, reason: HtmlFile.reason(error) })
      })
      const maxDrawn = options.maxDrawn ?? HtmlRender.DEFAULT_MAX_DRAWN
      // loaded now, before the run: the page can then be drawn synchronously, even on a forced exit
      const dagre = yield* HtmlRender.loadFor({ condensed: plan.tasks.length > maxDrawn }).pipe(
        Effect.mapError((e) => new ReporterError({ reporter: "html", path: target, reason: e.message }))
      )
      const collected = HtmlLines.make(plan.tasks, { head: options.headLines ?? 200, tail: options.tailLines ?? 2000 })
      const writeReport = (report: RunReport.RunReport | undefined, stoppedBy: string | undefined, now: number) => {
        try {
          const data = HtmlData.fromRun(plan, collected, report, { stoppedBy, signals: os.constants.signals, maxDrawn, now })
          HtmlFile.write(target, HtmlRender.renderSync(data, dagre))
        } catch (error) {
          process.stderr.write(`effect-taskgraph: could not write ${target}: ${HtmlFile.reason(error)}\n`)
        }
      }
      return {
        artifacts: [{ label: "report", path: target }],
        onEvents: (events) => Effect.sync(() => events.forEach((e) => HtmlLines.add(collected, e))),
        onEnd: (end) => Effect.flatMap(Clock.currentTimeMillis, (now) => Effect.sync(() => writeReport(end.report, end.stoppedBy, now))),
        onForce: (forced) => writeReport(undefined, forced.reason, Date.now())
      }
    }))

// ---- combining and choosing ---------------------------------------------------

/**
 * Several reporters at once. They get everything in the order given; put
 * the file writers before the terminal view so their files exist when the
 * summary names them. A reporter whose handler throws or dies is turned off
 * for the rest of the run and named in a log notice to the others, which go
 * on (the run itself is not affected).
 *
 * @example
 * ```ts
 * import { Reporter } from "effect-taskgraph"
 * const reporter = Reporter.combine(Reporter.files("logs"), Reporter.junit("junit.xml"), Reporter.auto())
 * ```
 *
 * @since 0.1.0
 * @category constructors
 */
export const combine = (...reporters: ReadonlyArray<Reporter>): Reporter => ({
  [TypeId]: TypeId,
  name: reporters.map((r) => r.name).join("+"),
  open: (plan) =>
    Effect.map(
      Effect.forEach(reporters, (r) => r.open(plan)),
      (sessions): Session => Guard.combineGuarded(sessions.map((session, i) => ({ name: reporters[i]!.name, session })))
    )
})

/**
 * Whether the environment is an interactive terminal: the output is a TTY,
 * `CI` is not set, and `TERM` is not `dumb`.
 *
 * @example
 * ```ts
 * import { Reporter } from "effect-taskgraph"
 * Reporter.isInteractive() // false under CI or when piped
 * ```
 *
 * @since 0.1.0
 * @category utils
 */
export const isInteractive = (
  output: Output = process.stdout,
  env: NodeJS.ProcessEnv = process.env
): boolean => {
  const ci = env.CI !== undefined && env.CI !== "" && env.CI !== "0" && env.CI.toLowerCase() !== "false"
  return output.isTTY === true && !ci && env.TERM !== "dumb"
}

/**
 * The names `auto` and the command line accept.
 *
 * @example
 * ```ts
 * import { Reporter } from "effect-taskgraph"
 *
 * const kind: Reporter.Kind = process.env.CI ? "plain" : "pretty"
 * const reporter = Reporter.byKind(kind)
 * ```
 *
 * @since 0.1.0
 * @category models
 */
export type Kind = "pretty" | "plain" | "json"

/**
 * The reporter the environment asks for: `EFFECT_TASKGRAPH_REPORTER`
 * (`pretty`, `plain` or `json`) if set; else `pretty` on an interactive
 * terminal and `plain` in CI (`CI` set), in pipes and files.
 *
 * @example
 * ```ts
 * import { Reporter, TaskGraph } from "effect-taskgraph"
 * import { Main } from "effect-taskgraph/node"
 * declare const graph: TaskGraph.TaskGraph<never, never, never>
 * Main.runMain(graph, { reporter: Reporter.auto() }) // the default
 * ```
 *
 * @since 0.1.0
 * @category constructors
 */
export const auto = (options: { readonly env?: NodeJS.ProcessEnv | undefined; readonly output?: Output | undefined } = {}): Reporter => {
  const env = options.env ?? process.env
  const asked = env.EFFECT_TASKGRAPH_REPORTER
  const output = options.output
  const kind: Kind = asked === "pretty" || asked === "plain" || asked === "json"
    ? asked
    : isInteractive(output ?? process.stdout, env) ? "pretty" : "plain"
  return byKind(kind, output)
}

/**
 * A reporter by its name.
 *
 * @example
 * ```ts
 * import { Reporter } from "effect-taskgraph"
 * Reporter.byKind("json")
 * ```
 *
 * @since 0.1.0
 * @category constructors
 */
export const byKind = (kind: Kind, output?: Output): Reporter =>
  kind === "pretty" ? pretty({ output }) : kind === "plain" ? plain({ output }) : json({ output })
