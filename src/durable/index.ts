/**
 * `effect-taskgraph/durable`: durable runs that resume (`@effect/workflow`
 * on `@effect/cluster`, sqlite through `@effect/sql-sqlite-node`). Kept out
 * of the root entry: importing it loads the cluster and sqlite libraries.
 *
 * @example
 * ```ts
 * import { Durable } from "effect-taskgraph/durable"
 * const store = Durable.layerSqlite(Durable.defaultStore)
 * ```
 *
 * @since 0.1.0
 */

/**
 * Durable runs that resume, locally on sqlite or on a cluster of runners.
 *
 * @example
 * ```ts
 * import type { TaskGraph } from "effect-taskgraph"
 * import { Durable } from "effect-taskgraph/durable"
 *
 * declare const graph: TaskGraph.TaskGraph
 * Durable.runMain(graph, { runId: "nightly-42" })
 * ```
 *
 * @since 0.1.0
 * @category modules
 */
export * as Durable from "../Durable.js"
