/**
 * effect-taskgraph: typed task graphs with structured concurrency on Effect 3.
 *
 * The root entry is the core only: it loads `effect` and Node built-ins, never
 * `@effect/platform-node`, `ssh2` or `@effect/cli`. Running a graph as a
 * program is `effect-taskgraph/node` (`Main`), worker threads and background
 * workers are `effect-taskgraph/workers`, the QEMU toolkit is
 * `effect-taskgraph/qemu`, the command line is `effect-taskgraph/cli`.
 *
 * @example
 * ```ts
 * import { Effect } from "effect"
 * import { Task, TaskGraph } from "effect-taskgraph"
 *
 * const hello = Task.make("hello", { run: Effect.log("hello") })
 * Effect.runPromise(TaskGraph.run(TaskGraph.make("hi", [hello])))
 * ```
 *
 * @since 0.1.0
 */

/**
 * The ways a graph can be invalid, found before anything runs.
 *
 * @example
 * ```ts
 * import { GraphError } from "effect-taskgraph"
 *
 * GraphError.isGraphError(new GraphError.DuplicateTaskError({ task: "build" })) // true
 * ```
 *
 * @since 0.1.0
 * @category modules
 */
export * as GraphError from "./GraphError.js"
/**
 * Subprocesses bound to a scope, with their output in the task's output.
 *
 * @example
 * ```ts
 * import { Process } from "effect-taskgraph"
 *
 * const build = Process.run("make", ["-j4"], { cwd: "project" })
 * ```
 *
 * @since 0.1.0
 * @category modules
 */
export * as Process from "./Process.js"
/**
 * What a run shows while it goes and writes when it is over: terminal views and
 * report files.
 *
 * @example
 * ```ts
 * import { Reporter } from "effect-taskgraph"
 *
 * const reporter = Reporter.combine(Reporter.plain(), Reporter.junit("reports/junit.xml"))
 * ```
 *
 * @since 0.1.0
 * @category modules
 */
export * as Reporter from "./Reporter.js"
/**
 * The report of a run: every task's state, times and value, and renderings of it.
 *
 * @example
 * ```ts
 * import { RunReport } from "effect-taskgraph"
 *
 * declare const report: RunReport.RunReport
 * console.log(RunReport.summary(report))
 * ```
 *
 * @since 0.1.0
 * @category modules
 */
export * as RunReport from "./RunReport.js"
/**
 * Tasks: a named unit of work, what it provides, requires and runs after.
 *
 * @example
 * ```ts
 * import { Effect } from "effect"
 * import { Task } from "effect-taskgraph"
 *
 * const build = Task.make("build", { run: Effect.log("building"), timeout: "10 minutes" })
 * ```
 *
 * @since 0.1.0
 * @category modules
 */
export * as Task from "./Task.js"
/**
 * How tasks and runs fail: timeouts, undeclared dependencies, failed runs.
 *
 * @example
 * ```ts
 * import { Effect } from "effect"
 * import type { TaskError } from "effect-taskgraph"
 *
 * declare const run: Effect.Effect<void, TaskError.RunFailedError>
 * run.pipe(Effect.catchTag("RunFailedError", (e) => Effect.logError(e.message)))
 * ```
 *
 * @since 0.1.0
 * @category modules
 */
export * as TaskError from "./TaskError.js"
/**
 * The events of a run, as classes and as a schema (one JSON line each).
 *
 * @example
 * ```ts
 * import { TaskEvent } from "effect-taskgraph"
 *
 * declare const event: TaskEvent.TaskEvent
 * const line = TaskEvent.toJsonLine(event)
 * ```
 *
 * @since 0.1.0
 * @category modules
 */
export * as TaskEvent from "./TaskEvent.js"
/**
 * Building, validating, drawing and running a graph of tasks.
 *
 * @example
 * ```ts
 * import { Effect } from "effect"
 * import { Task, TaskGraph } from "effect-taskgraph"
 *
 * const hello = Task.make("hello", { run: Effect.log("hello") })
 * const report = TaskGraph.run(TaskGraph.make("hi", [hello]))
 * ```
 *
 * @since 0.1.0
 * @category modules
 */
export * as TaskGraph from "./TaskGraph.js"
