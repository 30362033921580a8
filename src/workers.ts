/**
 * `effect-taskgraph/workers`: CPU-bound work on worker threads
 * (`WorkerPool`, served by `WorkerThread`), long-lived background fibers fed
 * by a queue (`BackgroundWorker`) and callback/emitter APIs turned into
 * effects and streams (`Bridge`).
 *
 * @example
 * ```ts
 * import { BackgroundWorker, Bridge, WorkerPool, WorkerThread } from "effect-taskgraph/workers"
 * ```
 *
 * @since 0.1.0
 */

/**
 * @since 0.1.0
 * @category modules
 */
export * as BackgroundWorker from "./BackgroundWorker.js"
/**
 * @since 0.1.0
 * @category modules
 */
export * as Bridge from "./Bridge.js"
/**
 * @since 0.1.0
 * @category modules
 */
export * as WorkerPool from "./WorkerPool.js"
/**
 * @since 0.1.0
 * @category modules
 */
export * as WorkerThread from "./WorkerThread.js"
