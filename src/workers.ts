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
 * Long-lived background fibers fed by a bounded queue.
 *
 * @example
 * ```ts
 * import { Effect } from "effect"
 * import { BackgroundWorker } from "effect-taskgraph/workers"
 *
 * const worker = BackgroundWorker.make({ process: (line: string) => Effect.log(line) })
 * ```
 *
 * @since 0.1.0
 * @category modules
 */
export * as BackgroundWorker from "./BackgroundWorker.js"
/**
 * Callback and event-emitter APIs as effects and streams, and promises into a scope.
 *
 * @example
 * ```ts
 * import { EventEmitter } from "node:events"
 * import { Bridge } from "effect-taskgraph/workers"
 *
 * const ticks = Bridge.fromEmitter<number>(new EventEmitter(), "tick", { end: "done" })
 * ```
 *
 * @since 0.1.0
 * @category modules
 */
export * as Bridge from "./Bridge.js"
/**
 * A pool of worker threads serving `Schema.TaggedRequest`s.
 *
 * @example
 * ```ts
 * import { WorkerPool } from "effect-taskgraph/workers"
 *
 * const pool = WorkerPool.make({ entry: new URL("./fib.worker.ts", import.meta.url), size: 2 })
 * ```
 *
 * @since 0.1.0
 * @category modules
 */
export * as WorkerPool from "./WorkerPool.js"
/**
 * The worker side of a `WorkerPool`: serving requests in a worker thread.
 *
 * @example
 * ```ts
 * import { WorkerThread } from "effect-taskgraph/workers"
 *
 * WorkerThread.isWorkerThread // false in the main thread
 * ```
 *
 * @since 0.1.0
 * @category modules
 */
export * as WorkerThread from "./WorkerThread.js"
