/**
 * effect-taskgraph: typed task graphs with structured concurrency on Effect 3.
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

/** @since 0.1.0 */
export * as BackgroundWorker from "./BackgroundWorker.js"
/** @since 0.1.0 */
export * as Bridge from "./Bridge.js"
/** @since 0.1.0 */
export * as GraphError from "./GraphError.js"
/** @since 0.1.0 */
export * as Main from "./Main.js"
/** @since 0.1.0 */
export * as Process from "./Process.js"
/** @since 0.1.0 */
export * as Reporter from "./Reporter.js"
/** @since 0.1.0 */
export * as RunReport from "./RunReport.js"
/** @since 0.1.0 */
export * as Task from "./Task.js"
/** @since 0.1.0 */
export * as TaskError from "./TaskError.js"
/** @since 0.1.0 */
export * as TaskEvent from "./TaskEvent.js"
/** @since 0.1.0 */
export * as TaskGraph from "./TaskGraph.js"
/** @since 0.1.0 */
export * as WorkerPool from "./WorkerPool.js"
/** @since 0.1.0 */
export * as WorkerThread from "./WorkerThread.js"
