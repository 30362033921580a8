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
 * @since 0.1.0
 */
export * as Durable from "../Durable.js"
