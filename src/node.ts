/**
 * `effect-taskgraph/node`: running a graph as a Node program. `Main` starts
 * a graph with a reporter, exit codes and signal handling; it loads
 * `@effect/platform-node`, which the root entry never does.
 *
 * @example
 * ```ts
 * import { Effect } from "effect"
 * import { Task, TaskGraph } from "effect-taskgraph"
 * import { Main } from "effect-taskgraph/node"
 *
 * const hello = Task.make("hello", { run: Effect.log("hello") })
 * Main.runMain(TaskGraph.make("hi", [hello]))
 * ```
 *
 * @since 0.1.0
 */

/**
 * Running a graph as a Node program: reporter, exit code and signal handling.
 *
 * @example
 * ```ts
 * import type { TaskGraph } from "effect-taskgraph"
 * import { Main } from "effect-taskgraph/node"
 *
 * declare const graph: TaskGraph.TaskGraph
 * Main.runMain(graph, { reporter: "plain" })
 * ```
 *
 * @since 0.1.0
 * @category modules
 */
export * as Main from "./Main.js"
