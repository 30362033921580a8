/**
 * `effect-taskgraph/cli`: the command line as a module (`Cli`), for programs
 * that embed `effect-taskgraph run` or load graph files themselves. Loads
 * `@effect/cli` and `@effect/platform-node` (optional peer dependencies of
 * this package: install `@effect/cli` to use it).
 *
 * @example
 * ```ts
 * import { Cli } from "effect-taskgraph/cli"
 * Cli.main(process.argv)
 * ```
 *
 * @since 0.1.0
 */

/**
 * The `effect-taskgraph` command line, as an `@effect/cli` command.
 *
 * @example
 * ```ts
 * import { Cli } from "effect-taskgraph/cli"
 *
 * const graph = Cli.loadGraph("graphs/ci.ts") // Effect<TaskGraph.Any, CliError>
 * ```
 *
 * @since 0.1.0
 * @category modules
 */
export * as Cli from "../Cli.js"
