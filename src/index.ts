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
 * @since 0.1.0
 * @category modules
 */
export * as GraphError from "./GraphError.js"
/**
 * @since 0.1.0
 * @category modules
 */
export * as Process from "./Process.js"
/**
 * @since 0.1.0
 * @category modules
 */
export * as Reporter from "./Reporter.js"
/**
 * @since 0.1.0
 * @category modules
 */
export * as RunReport from "./RunReport.js"
/**
 * @since 0.1.0
 * @category modules
 */
export * as Task from "./Task.js"
/**
 * @since 0.1.0
 * @category modules
 */
export * as TaskError from "./TaskError.js"
/**
 * @since 0.1.0
 * @category modules
 */
export * as TaskEvent from "./TaskEvent.js"
/**
 * @since 0.1.0
 * @category modules
 */
export * as TaskGraph from "./TaskGraph.js"
