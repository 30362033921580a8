/**
 * Running a graph as a program: reporters chosen from the environment, the
 * summary at the end, two-stage Ctrl+C, and the right exit code.
 *
 * - `run`: an Effect that runs a graph with reporters (the live view, log
 *   files, JUnit…) and returns its report, like `TaskGraph.run`.
 * - `runMain`: the entry point of a script. Exit code 0 when the graph
 *   succeeds, 1 when it fails, 130 after Ctrl+C (SIGINT), 143 after SIGTERM,
 *   129 after SIGHUP. The first signal interrupts the run and runs every
 *   finalizer while the view shows what is still stopping; a second one kills
 *   every process group the run owns (`Process.killAllSync`), removes its
 *   temporary directories and exits at once.
 *
 * @example
 * ```ts
 * import { Effect } from "effect"
 * import { Process, Task, TaskGraph } from "effect-taskgraph"
 * import { Main } from "effect-taskgraph/node"
 *
 * const build = Task.make("build", { run: Process.run("make", ["-j4"]) })
 * const test = Task.make("test", { after: [build], run: Process.run("make", ["check"]) })
 *
 * Main.runMain(TaskGraph.make("ci", [build, test]), { logDir: "logs" })
 * ```
 *
 * @since 0.1.0
 */
import * as fs from "node:fs"
import * as os from "node:os"
import { fileURLToPath } from "node:url"
import * as NodeContext from "@effect/platform-node/NodeContext"
import type { Exit, LogLevel } from "effect"
import { identity } from "effect/Function"
import { Cause, Chunk, Clock, Duration, Effect, Fiber, FiberId, FiberRef, FiberRefs, HashMap, HashSet, Layer, Logger, Option, Schedule, Stream } from "effect"
import type { Output } from "./internal/reporter/pretty.js"
import * as OwnedPaths from "./internal/ownedPaths.js"
import { hooksFrom } from "./internal/taskHooks.js"
import * as GraphError from "./GraphError.js"
import * as Process from "./Process.js"
import * as Reporter from "./Reporter.js"
import * as RunReport from "./RunReport.js"
import type * as TaskEvent from "./TaskEvent.js"
import * as TaskGraph from "./TaskGraph.js"
import { errorText, prettyCause } from "./internal/errorText.js"
import * as GraphLoading from "./internal/graphLoading.js"

/**
 * How `run` and `runMain` report a run. Besides these, every option of
 * `TaskGraph.run` (`concurrency`, `mode`, `pools`, `spans`).
 *
 * @example
 * ```ts
 * import { Main } from "effect-taskgraph/node"
 * import type { TaskGraph } from "effect-taskgraph"
 *
 * declare const graph: TaskGraph.TaskGraph
 * const options: Main.RunOptions = { reporter: "plain", junit: "reports/junit.xml", concurrency: 4 }
 * const report = Main.run(graph, options)
 * ```
 *
 * @since 0.1.0
 * @category models
 */
export interface RunOptions extends TaskGraph.RunOptions {
  /**
   * The terminal view: `"auto"` (default: `pretty` on a terminal, `plain` in
   * CI and pipes, or what `EFFECT_TASKGRAPH_REPORTER` says), a kind, or your
   * own reporter(s).
   */
  readonly reporter?: "auto" | Reporter.Kind | Reporter.Reporter | ReadonlyArray<Reporter.Reporter> | undefined
  /** also write log files there (`Reporter.files`) */
  readonly logDir?: string | undefined
  /** also write a JUnit XML report there (`Reporter.junit`) */
  readonly junit?: string | undefined
  /** also write a self-contained HTML report of the run there (`Reporter.html`), e.g. `.taskgraph/report.html` */
  readonly html?: string | undefined
  /** print the executed graph as a Mermaid flowchart after the summary */
  readonly mermaid?: boolean | undefined
  /** the least severe `Effect.log` level shown (default: the fiber's, `Info`) */
  readonly logLevel?: LogLevel.LogLevel | undefined
}

/** What `runMain` knows that `run` does not: which signal stopped the run. @internal */
interface Control {
  /** the signal that stopped the run */
  reason: string | undefined
  /** how to force, once stopping */
  hint: string | undefined
  /** how to force a stop that a failure started (no signal yet) */
  readonly forceHint: string | undefined
  session: Reporter.Session | undefined
}

const reporterOf = (options: RunOptions): Reporter.Reporter => {
  const chosen = options.reporter ?? "auto"
  const view: ReadonlyArray<Reporter.Reporter> = chosen === "auto"
    ? [Reporter.auto()]
    : typeof chosen === "string"
    ? [Reporter.byKind(chosen)]
    : Reporter.isReporter(chosen)
    ? [chosen]
    : chosen
  const writers: Array<Reporter.Reporter> = []
  if (options.logDir !== undefined) writers.push(Reporter.files(options.logDir))
  if (options.junit !== undefined) writers.push(Reporter.junit(options.junit))
  if (options.html !== undefined) writers.push(Reporter.html(options.html))
  // writers first: their files exist by the time the summary names them
  return Reporter.combine(...writers, ...view)
}

const isJson = (options: RunOptions) =>
  options.reporter === "json" ||
  ((options.reporter ?? "auto") === "auto" && process.env.EFFECT_TASKGRAPH_REPORTER === "json")

const runOptionsOf = (options: RunOptions): TaskGraph.RunOptions => ({
  concurrency: options.concurrency,
  mode: options.mode,
  pools: options.pools,
  spans: options.spans
})

/**
 * Logs from inside tasks are already events (their `TaskOutput` lines); the
 * console loggers would print them a second time, through the live view.
 * Other logs (finalizers, the main program) go to the reporters as notices.
 */
const routeLogs = (session: Reporter.Session) =>
  Logger.make<unknown, void>(({ annotations, context, logLevel, message }) => {
    if (hooksFrom(FiberRefs.getOrDefault(context, FiberRef.currentContext), context) !== undefined) return
    const parts = Array.isArray(message) ? message : [message]
    const text = parts.map((p) => errorText(p)).join(" ")
    const task = Option.getOrUndefined(HashMap.get(annotations, "task"))
    try {
      Effect.runSync(session.onNotice({
        _tag: "Log",
        level: logLevel.label,
        message: text,
        task: typeof task === "string" ? task : undefined
      }))
    } catch {
      // a reporter whose notice handler is asynchronous: the line is lost, not the run
    }
  })


const withRoutedLogs = (session: Reporter.Session) =>
  Effect.locallyWith(FiberRef.currentLoggers, (loggers) =>
    HashSet.add(
      HashSet.remove(HashSet.remove(loggers, Logger.defaultLogger), Logger.prettyLoggerDefault),
      routeLogs(session)
    ))

const runWith = <E, R, P>(
  graph: TaskGraph.TaskGraph<E, R, P>,
  options: RunOptions,
  control: Control
): Effect.Effect<RunReport.RunReport, TaskGraph.TaskGraphError<E> | Reporter.ReporterError, R> =>
  Effect.scoped(Effect.gen(function*() {
    const plan = yield* TaskGraph.validate(graph)
    const session = yield* reporterOf(options).open(plan)
    control.session = session
    const handle = yield* TaskGraph.start(graph, runOptionsOf(options)).pipe(
      withRoutedLogs(session),
      options.logLevel === undefined ? identity : Effect.locally(FiberRef.currentMinimumLogLevel, options.logLevel)
    )
    /** Stop notices: the first one, then one every 250 ms while the run is not over. */
    const tickers: Array<Fiber.RuntimeFiber<unknown>> = []
    const notifier = (reason: string, hint: string | undefined, since: number) => (first: boolean) =>
      Effect.gen(function*() {
        if (Option.isSome(yield* handle.poll)) return
        const status = yield* handle.status
        const processes = yield* Process.running
        const now = yield* Clock.currentTimeMillis
        const tasks: Array<Reporter.StoppingTask> = []
        for (const name in status) {
          const state = status[name]
          if (state === "running") tasks.push({ name, phase: "interrupting" })
          else if (state === "ready") tasks.push({ name, phase: "releasing" })
        }
        yield* session.onNotice({
          _tag: "Stopping",
          reason,
          first,
          since,
          now,
          tasks,
          processes: processes.map((p) => ({ pid: p.pid, command: p.command, args: p.args, state: p.state })),
          hint
        })
      })
    /** Sends the first notice now (or after `delay`), then keeps going in the background. */
    const startNotices = (reason: string, hint: string | undefined, delay?: Duration.DurationInput) =>
      Effect.gen(function*() {
        const since = yield* Clock.currentTimeMillis
        const notify = notifier(reason, hint, since)
        const later = Effect.repeat(Effect.delay(notify(false), "250 millis"), Schedule.forever)
        const all = delay === undefined ? later : Effect.delay(Effect.zipRight(notify(true), later), delay)
        if (delay === undefined) yield* notify(true)
        // not a child of this fiber, which may be interrupted: `finish` stops it
        tickers.push(yield* Effect.forkDaemon(Effect.interruptible(all)))
      })

    // fail-fast: after a failure everything stops; if that takes a while, say what is still stopping
    let failureSeen = (options.mode ?? "fail-fast") !== "fail-fast"
    const watchFailures = (events: ReadonlyArray<TaskEvent.TaskEvent>) => {
      if (failureSeen) return Effect.void
      const failed = events.find((e) => e._tag === "TaskFailed" || e._tag === "TaskTimedOut")
      if (failed === undefined) return Effect.void
      failureSeen = true
      const reason = `${failed.task} ${failed._tag === "TaskFailed" ? "failed" : "timed out"}`
      return startNotices(reason, control.forceHint, "1 second")
    }

    // in the run's scope, not a child of this fiber: it must outlive an interruption of this fiber
    const consumer = yield* Effect.forkScoped(
      Stream.runForEachChunk(handle.events, (chunk) => {
        const events = Chunk.toReadonlyArray(chunk)
        return Effect.zipRight(session.onEvents(events), watchFailures(events))
      })
    )

    const finish = Effect.uninterruptible(Effect.gen(function*() {
      yield* Fiber.join(consumer)
      yield* Fiber.interruptAll(tickers)
      const report = yield* handle.report
      yield* session.onEnd({ report, artifacts: session.artifacts, stoppedBy: control.reason })
      if (options.mermaid === true) {
        const out: Output = isJson(options) ? process.stderr : process.stdout
        out.write(`\n${RunReport.toMermaid(report)}\n`)
      }
      return report
    }))

    const stop = Effect.gen(function*() {
      yield* Fiber.interruptAll(tickers)
      yield* startNotices(control.reason ?? "interrupted", control.hint)
      yield* handle.interrupt
      yield* finish
    })

    const exit = yield* Effect.exit(handle.await).pipe(Effect.onInterrupt(() => Effect.ignore(stop)))
    yield* finish
    return yield* exit
  }))

/**
 * Runs a graph with reporters: the terminal view chosen from the
 * environment (or `reporter`), log files with `logDir`, a JUnit report with
 * `junit`; the summary at the end. Task logs (`Effect.log`) go to the
 * reporters only, so they never garble the live view. If the effect is
 * interrupted, the reporters show what is still stopping while every
 * finalizer runs, then the summary.
 *
 * Fails like `TaskGraph.run` (and with `ReporterError` when a log file
 * cannot be written; then nothing ran).
 *
 * @example
 * ```ts
 * import { Effect } from "effect"
 * import { Task, TaskGraph } from "effect-taskgraph"
 * import { Main } from "effect-taskgraph/node"
 *
 * const graph = TaskGraph.make("g", [Task.make("a", { run: Effect.log("working") })])
 * const program = Main.run(graph, { reporter: "plain", logDir: "logs", concurrency: 4 })
 * // [a] -- started
 * // [a] working
 * // [a] -- done in 2ms
 * ```
 *
 * @since 0.1.0
 * @category running
 */
export const run = <E, R, P>(
  graph: TaskGraph.TaskGraph<E, R, P>,
  options: RunOptions = {}
): Effect.Effect<RunReport.RunReport, TaskGraph.TaskGraphError<E> | Reporter.ReporterError, R> =>
  Effect.suspend(() => runWith(graph, options, { reason: undefined, hint: undefined, forceHint: undefined, session: undefined }))

// ---- runMain ------------------------------------------------------------------

/**
 * Options of `runMain`: those of `run`, plus the services the graph needs.
 *
 * @example
 * ```ts
 * import { Context, Layer } from "effect"
 * import type { TaskGraph } from "effect-taskgraph"
 * import { Main } from "effect-taskgraph/node"
 *
 * class Db extends Context.Tag("Db")<Db, { readonly url: string }>() {}
 * declare const graph: TaskGraph.TaskGraph<never, Db>
 * const options: Main.MainOptions<Db> = { layer: Layer.succeed(Db, { url: "postgres://localhost/test" }) }
 * Main.runMain(graph, options)
 * ```
 *
 * @since 0.1.0
 * @category models
 */
export interface MainOptions<ROut = never, LE = never> extends RunOptions {
  /**
   * Services the graph needs from outside (besides the Node platform
   * services, always provided: `CommandExecutor`, `FileSystem`, `Path`,
   * `Terminal`, `WorkerManager`).
   */
  readonly layer?: Layer.Layer<ROut, LE> | undefined
}

/**
 * `unknown` when `runMain` can provide everything the graph needs, else a
 * type whose property names the missing services.
 *
 * @example
 * ```ts
 * import type { Main } from "effect-taskgraph/node"
 *
 * type Db = { readonly _: unique symbol }
 * type Ok = Main.CheckProvided<Db, Db> // unknown: the layer provides everything
 * ```
 *
 * @since 0.1.0
 * @category models
 */
export type CheckProvided<R, ROut> = [Exclude<R, ROut | NodeContext.NodeContext>] extends [never] ? unknown
  : { readonly "runMain: the graph needs services no layer provides; pass them as options.layer": Exclude<R, ROut | NodeContext.NodeContext> }

/**
 * Exit codes `runMain` uses.
 *
 * @example
 * ```ts
 * import { Main } from "effect-taskgraph/node"
 * Main.ExitCode.Interrupted // 130
 * ```
 *
 * @since 0.1.0
 * @category constants
 */
export const ExitCode = {
  Succeeded: 0,
  Failed: 1,
  /** bad command-line usage */
  Usage: 2,
  /** SIGHUP: 128 + 1 */
  HangUp: 129,
  /** SIGINT (Ctrl+C): 128 + 2 */
  Interrupted: 130,
  /** SIGTERM: 128 + 15 */
  Terminated: 143
} as const

const signalCode = (signal: NodeJS.Signals): number => 128 + (os.constants.signals[signal] ?? 2)

const hintFor = (signal: NodeJS.Signals) =>
  signal === "SIGINT"
    ? "Press Ctrl+C again to force (kills every child process at once)."
    : `Send ${signal} again (or press Ctrl+C) to force (kills every child process at once).`

/** Errors whose message says it all (an invalid graph, an unwritable log directory). */
const isExpected = (error: unknown): error is { readonly message: string } =>
  GraphError.isGraphError(error) || error instanceof Reporter.ReporterError

/** The exit code of a finished run, and what to tell the user, if anything. */
const outcome = (exit: Exit.Exit<unknown, unknown>): { readonly code: number; readonly message?: string } => {
  if (exit._tag === "Success") return { code: ExitCode.Succeeded }
  if (Cause.isInterruptedOnly(exit.cause)) return { code: ExitCode.Interrupted }
  const failure = Cause.failureOption(exit.cause)
  if (Option.isSome(failure)) {
    const error = failure.value as { readonly _tag?: string; readonly message?: string }
    // the reporters already showed the failed tasks and the summary
    if (error._tag === "RunFailedError") return { code: ExitCode.Failed }
    if (isExpected(error)) {
      return { code: ExitCode.Failed, message: `error: ${error.message}` }
    }
  }
  return { code: ExitCode.Failed, message: prettyCause(exit.cause) }
}

/**
 * The entry point of a script that runs a graph: runs it with reporters
 * (see `run`), then exits: 0 when it succeeded, 1 when it failed (or was
 * invalid), 130 after Ctrl+C, 143 after SIGTERM, 129 after SIGHUP.
 *
 * The first SIGINT, SIGTERM or SIGHUP interrupts the run: every finalizer
 * runs while the view shows what is still stopping and says how to force.
 * A second signal during that cleanup kills every process group the run
 * owns (`Process.killAllSync("SIGKILL")`), removes the temporary directories
 * the run owns (a VM's run directory, an overlay's directory) and exits at
 * once with 128 + its number. (Unlike `NodeRuntime.runMain`, whose second Ctrl+C kills Node
 * outright and orphans the children, and which ignores SIGHUP.)
 *
 * The Node platform services are provided; anything else the graph needs
 * comes from `options.layer` (the compiler says what is missing).
 *
 * @example
 * ```ts
 * import { Effect } from "effect"
 * import { Process, Task, TaskGraph } from "effect-taskgraph"
 * import { Main } from "effect-taskgraph/node"
 *
 * const graph = TaskGraph.make("build", [
 *   Task.make("compile", { run: Process.run("cc", ["-c", "main.c"]) })
 * ])
 * Main.runMain(graph, { concurrency: 4, logDir: "logs", junit: "junit.xml" })
 * ```
 *
 * @since 0.1.0
 * @category running
 */
export const runMain = <E, R, P, ROut = never, LE = never>(
  graph: TaskGraph.TaskGraph<E, R, P> & CheckProvided<R, ROut>,
  options: MainOptions<ROut, LE> = {}
): void => {
  // imported by `effect-taskgraph run FILE`, which runs the graph itself (and says to guard this call)
  if (GraphLoading.deferToCli()) return
  const control: Control = {
    reason: undefined,
    hint: undefined,
    forceHint: "Press Ctrl+C twice to force (kills every child process at once).",
    session: undefined
  }
  const layer = Layer.merge(NodeContext.layer, options.layer ?? Layer.empty) as Layer.Layer<R, LE>
  const program = runWith(graph as TaskGraph.TaskGraph<E, R, P>, options, control).pipe(Effect.provide(layer))

  // a closed terminal or pipe must not crash the cleanup
  const ignore = () => {}
  process.stdout.on("error", ignore)
  process.stderr.on("error", ignore)

  let signal: NodeJS.Signals | undefined
  const fiber = Effect.runFork(program)
  // an Effect program blocked on its own primitives keeps no handle open: keep Node alive
  const keepAlive = setInterval(() => {}, 2 ** 30)

  const onSignal = (received: NodeJS.Signals) => {
    if (signal === undefined) {
      signal = received
      control.reason = received
      control.hint = hintFor(received)
      Effect.runFork(Fiber.interruptAsFork(fiber, FiberId.none))
      return
    }
    // second signal: no more waiting; no release runs after this, so remove what they would have
    const killed = Process.killAllSync("SIGKILL")
    OwnedPaths.removeAllSync()
    try {
      control.session?.onForce({ reason: received, killed })
    } catch {
      // last words are best effort
    }
    process.exit(signalCode(received))
  }
  const signals: ReadonlyArray<NodeJS.Signals> = ["SIGINT", "SIGTERM", "SIGHUP"]
  for (const s of signals) process.on(s, onSignal)

  fiber.addObserver((exit) => {
    clearInterval(keepAlive)
    const result = outcome(exit)
    if (result.message !== undefined && signal === undefined) process.stderr.write(`${result.message}\n`)
    const code = signal !== undefined ? signalCode(signal) : result.code
    for (const s of signals) process.off(s, onSignal)
    process.exit(code)
  })
}

/**
 * Whether the module with this `import.meta.url` is the script Node was
 * started with. Lets one file export its graph (for `effect-taskgraph run
 * FILE`) and also run it when executed directly.
 *
 * @example
 * ```ts
 * import { Effect } from "effect"
 * import { Task, TaskGraph } from "effect-taskgraph"
 * import { Main } from "effect-taskgraph/node"
 *
 * const graph = TaskGraph.make("build", [Task.make("compile", { run: Effect.void })])
 * export default graph
 * if (Main.isMain(import.meta.url)) Main.runMain(graph)
 * ```
 *
 * @since 0.1.0
 * @category utils
 */
export const isMain = (importMetaUrl: string): boolean => {
  const script = process.argv[1]
  if (script === undefined) return false
  try {
    return fs.realpathSync(fileURLToPath(importMetaUrl)) === fs.realpathSync(script)
  } catch {
    return false
  }
}
