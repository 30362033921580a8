/**
 * The command line: `effect-taskgraph run FILE [options]`, where FILE (a
 * `.ts` or `.js` module) exports a graph as its default export.
 *
 * ```
 * effect-taskgraph run build.ts                     # run it: live view on a terminal, plain lines in CI
 * effect-taskgraph run build.ts --dry-run           # validate, print the plan and the Mermaid graph
 * effect-taskgraph run build.ts -j 4 --log-dir logs --junit junit.xml --mermaid
 * effect-taskgraph run build.ts --html report.html  # a self-contained HTML report of the run
 * effect-taskgraph run build.ts --dry-run --html graph.html   # the planned graph as HTML
 * effect-taskgraph run build.ts --reporter json     # one JSON event per line
 * effect-taskgraph run build.ts --run-id nightly-7  # durable: the same id again resumes (see docs/durable.md)
 * effect-taskgraph runner build.ts --store postgres://… --listen 10.0.0.5:7001   # a runner of a cluster
 * effect-taskgraph run build.ts --run-id n7 --store postgres://… --remote     # its tasks run on the runners
 * ```
 *
 * Exit codes: 0 success, 1 failure (or an invalid graph), 2 bad usage (an
 * unknown flag, a bad value, a file without a graph), 130 after Ctrl+C,
 * 143 after SIGTERM, 129 after SIGHUP.
 *
 * @example
 * ```ts
 * // what `npx effect-taskgraph` runs, in short
 * import { Cli } from "effect-taskgraph/cli"
 * Cli.main(process.argv)
 * ```
 *
 * @since 0.1.0
 */
import * as fs from "node:fs"
import * as path from "node:path"
import { makeDirectorySync } from "./internal/makeDirectory.js"
import { pathToFileURL } from "node:url"
import * as Args from "@effect/cli/Args"
import * as Command from "@effect/cli/Command"
import * as Options from "@effect/cli/Options"
import * as ValidationError from "@effect/cli/ValidationError"
import * as NodeContext from "@effect/platform-node/NodeContext"
import { Cause, Console, Data, Effect, FiberRef, Option } from "effect"
import { ensureTypeScript, isTypeScriptFile } from "./internal/typescript.js"
import * as Main from "./Main.js"
import type * as Reporter from "./Reporter.js"
import * as TaskGraph from "./TaskGraph.js"
import * as Text from "./internal/reporter/text.js"
import { errorText, prettyCause } from "./internal/errorText.js"
import * as GraphLoading from "./internal/graphLoading.js"

/**
 * The file given to `run` could not be used: it does not exist, could not be
 * imported, or exports no graph.
 *
 * @example
 * ```ts
 * import { Cli } from "effect-taskgraph/cli"
 * Cli.loadGraph("build.ts") // fails with CliError when build.ts exports no graph
 * ```
 *
 * @since 0.1.0
 * @category errors
 */
export class CliError extends Data.TaggedError("CliError")<{
  readonly message: string
  /** 2 for a usage problem, 1 for a module that throws when imported */
  readonly exitCode: number
}> {}

/**
 * Imports a module and returns the graph it exports: its default export, or
 * else an export named `graph`.
 *
 * @example
 * ```ts
 * import { Effect } from "effect"
 * import { TaskGraph } from "effect-taskgraph"
 * import { Cli } from "effect-taskgraph/cli"
 * const plan = Cli.loadGraph("examples/diamond.ts").pipe(Effect.flatMap(TaskGraph.validate))
 * ```
 *
 * @since 0.1.0
 * @category loading
 */
export const loadGraph = (file: string): Effect.Effect<TaskGraph.TaskGraph.Any, CliError> =>
  Effect.gen(function*() {
    const absolute = path.resolve(file)
    if (!fs.existsSync(absolute)) {
      return yield* new CliError({ message: `${file}: no such file`, exitCode: Main.ExitCode.Usage })
    }
    if (isTypeScriptFile(absolute)) {
      // tsx is loaded only here, for a TypeScript file: .js/.mjs graphs run on plain node
      yield* Effect.tryPromise({
        try: ensureTypeScript,
        catch: (error) =>
          new CliError({
            message: `${file} is TypeScript: ${errorText(error)}`,
            exitCode: Main.ExitCode.Usage
          })
      })
    }
    GraphLoading.begin()
    const loaded = yield* Effect.either(Effect.tryPromise({
      try: () => import(pathToFileURL(absolute).href) as Promise<Record<string, unknown>>,
      catch: (error) =>
        new CliError({
          message: `${file} could not be loaded: ${error instanceof Error ? (error.stack ?? error.message) : String(error)}`,
          exitCode: Main.ExitCode.Failed
        })
    }))
    const runMainCalls = GraphLoading.end()
    if (loaded._tag === "Left") return yield* loaded.left
    const module = loaded.right
    if (runMainCalls > 0) {
      return yield* new CliError({
        message: `${file} calls Main.runMain when it is imported, so its graph would run twice: the command line ` +
          `runs the graph the file exports. Guard the call, and the file runs either way: ` +
          `if (Main.isMain(import.meta.url)) Main.runMain(graph)`,
        exitCode: Main.ExitCode.Usage
      })
    }
    const graph = TaskGraph.isTaskGraph(module.default) ? module.default : module.graph
    if (!TaskGraph.isTaskGraph(graph)) {
      const found = Object.keys(module).join(", ") || "nothing"
      return yield* new CliError({
        message: `${file} does not export a graph: make it \`export default TaskGraph.make("name", [...tasks])\` ` +
          `(it exports: ${found})`,
        exitCode: Main.ExitCode.Usage
      })
    }
    return graph
  })

/**
 * The plan of a graph as text: its steps (each step only waits for earlier
 * ones), data edges, precedences, what it needs from outside, then the
 * Mermaid flowchart.
 *
 * @example
 * ```ts
 * import { Effect } from "effect"
 * import { Task, TaskGraph } from "effect-taskgraph"
 * import { Cli } from "effect-taskgraph/cli"
 * const graph = TaskGraph.make("g", [Task.make("a", { run: Effect.void })])
 * Effect.map(TaskGraph.validate(graph), (plan) => Cli.describePlan(plan, TaskGraph.toMermaid(graph)))
 * ```
 *
 * @since 0.1.0
 * @category rendering
 */
export const describePlan = (plan: TaskGraph.Plan, mermaid: string): string => {
  const lines = [`graph "${plan.graph}": ${Text.count(plan.tasks.length, "task")}, valid`, "", "plan (a step only waits for earlier steps):"]
  plan.layers.forEach((layer, i) => lines.push(`  ${String(i + 1).padStart(2)}. ${layer.join(", ")}`))
  if (plan.dependencies.length > 0) {
    lines.push("", "data:")
    for (const e of plan.dependencies) lines.push(`  ${e.from} -> ${e.to} (${e.tag})`)
  }
  if (plan.precedences.length > 0) {
    lines.push("", "order:")
    for (const e of plan.precedences) lines.push(`  ${e.before} before ${e.after}`)
  }
  if (plan.external.length > 0) {
    lines.push("", "needs from outside the graph:")
    for (const e of plan.external) lines.push(`  ${e.tag} (for ${e.requiredBy.join(", ")})`)
  }
  lines.push("", mermaid)
  return lines.join("\n")
}

// ---- the command --------------------------------------------------------------

const positive = (name: string) =>
  Options.filterMap((n: number) => (Number.isInteger(n) && n > 0 ? Option.some(n) : Option.none()), `--${name} must be a positive integer`)

const options = {
  file: Args.file({ name: "FILE" }).pipe(
    Args.withDescription("a .ts or .js module whose default export is a graph (TaskGraph.make)")
  ),
  concurrency: Options.integer("concurrency").pipe(
    Options.withAlias("j"),
    positive("concurrency"),
    Options.withDescription("at most this many tasks running at once (default: no limit)"),
    Options.optional
  ),
  mode: Options.choice("mode", ["fail-fast", "continue"]).pipe(
    Options.withDescription("fail-fast: the first failure stops everything; continue: only its dependents are skipped"),
    Options.withDefault("fail-fast" as const)
  ),
  reporter: Options.choice("reporter", ["pretty", "plain", "json"]).pipe(
    Options.withDescription("the output: pretty (live view), plain (prefixed lines), json (one event per line); default: pretty on a terminal, plain otherwise"),
    Options.optional
  ),
  logDir: Options.directory("log-dir").pipe(
    Options.withDescription("write one log per task, a combined log, the report and the graph there"),
    Options.optional
  ),
  junit: Options.file("junit").pipe(
    Options.withDescription("write a JUnit XML report there (one testcase per task)"),
    Options.optional
  ),
  // text, not Options.file: the reporter itself checks the path (and says clearly what is wrong)
  html: Options.text("html").pipe(
    Options.withPseudoName("FILE"),
    Options.withDescription("write a self-contained HTML report of the run there (with --dry-run: the planned graph)"),
    Options.optional
  ),
  mermaid: Options.boolean("mermaid").pipe(
    Options.withDescription("print the executed graph as a Mermaid flowchart at the end")
  ),
  dryRun: Options.boolean("dry-run").pipe(
    Options.withDescription("validate the graph, print the plan and the Mermaid graph, run nothing")
  ),
  runId: Options.text("run-id").pipe(
    Options.withDescription("a durable run: keep every task's outcome in the store under this id; the same id again resumes it (tasks that succeeded are not run again)"),
    Options.optional
  ),
  store: Options.text("store").pipe(
    Options.withDescription("where durable runs are kept (with --run-id): a sqlite file (default .taskgraph/runs.db) or a postgres:// URL"),
    Options.optional
  ),
  remote: Options.boolean("remote").pipe(
    Options.withDescription("with --run-id and --store postgres://…: run the tasks on the cluster's runners (`effect-taskgraph runner`), follow the run here")
  ),
  waitForRunners: Options.integer("wait-for-runners").pipe(
    positive("wait-for-runners"),
    Options.withDescription("with --remote: give up after this many seconds without a runner (default 15)"),
    Options.optional
  )
}

/** What `run` was asked to do, once its flags are parsed. */
type Parsed = Command.Command.ParseConfig<typeof options>

/**
 * A run the command line asks for: the graph FILE exports and the options
 * its flags give, handed from the command's handler to `Main.runMain`.
 *
 * @example
 * ```ts
 * import type { TaskGraph } from "effect-taskgraph"
 * import { Main } from "effect-taskgraph/node"
 * import { Cli } from "effect-taskgraph/cli"
 *
 * const cli = Cli.command((request: Cli.RunRequest) =>
 *   request.durable === undefined
 *     ? Main.runMain(request.graph as TaskGraph.TaskGraph<unknown, never, unknown>, request.options)
 *     : console.log(`durable run ${request.durable.runId}`))
 * ```
 *
 * @since 0.1.0
 * @category models
 */
export interface RunRequest {
  readonly graph: TaskGraph.TaskGraph.Any
  readonly options: Main.RunOptions
  /** with `--run-id`: run it durably (`effect-taskgraph/durable`) */
  readonly durable?: {
    readonly runId: string
    readonly store: string | undefined
    /** with `--remote`: the tasks run on the cluster's runners, within this many seconds of waiting for one */
    readonly remote?: { readonly waitSeconds: number } | undefined
  } | undefined
}

/**
 * A runner the command line asks for (`effect-taskgraph runner FILE --store
 * URL --listen HOST:PORT`).
 *
 * @example
 * ```ts
 * import { Durable } from "effect-taskgraph/durable"
 * import { Cli } from "effect-taskgraph/cli"
 *
 * const cli = Cli.command(
 *   () => {},
 *   (request: Cli.RunnerRequest) => Durable.runnerMain([request.graph], { store: request.store, listen: request.listen })
 * )
 * ```
 *
 * @since 0.1.0
 * @category models
 */
export interface RunnerRequest {
  readonly graph: TaskGraph.TaskGraph.Any
  readonly store: string
  readonly listen: string
}

const runCommand = (onRun: (request: RunRequest) => void) =>
  Command.make("run", options, (args: Parsed) =>
    Effect.gen(function*() {
      const graph = yield* loadGraph(args.file)
      if (args.dryRun) {
        const plan = yield* TaskGraph.validate(graph)
        yield* Console.log(describePlan(plan, TaskGraph.toMermaid(graph)))
        if (Option.isSome(args.html)) {
          const target = path.resolve(args.html.value)
          const html = yield* TaskGraph.toHtml(graph)
          yield* Effect.try({
            try: () => {
              makeDirectorySync(path.dirname(target))
              fs.writeFileSync(target, html)
            },
            catch: (error) =>
              new CliError({
                message: `cannot write ${target}: ${errorText(error)}`,
                exitCode: Main.ExitCode.Failed
              })
          })
          yield* Console.log(`\nplanned graph: ${target}`)
        }
        return
      }
      // `--log-level` (built into @effect/cli) sets this fiber's level: the run keeps it
      const logLevel = yield* FiberRef.get(FiberRef.currentMinimumLogLevel)
      if (Option.isNone(args.runId) && Option.isSome(args.store)) {
        return yield* new CliError({ message: "--store is only for durable runs: give --run-id too", exitCode: Main.ExitCode.Usage })
      }
      if (args.remote && (Option.isNone(args.runId) || Option.isNone(args.store))) {
        return yield* new CliError({
          message: "--remote needs --run-id ID and --store postgres://… (the store the runners use)",
          exitCode: Main.ExitCode.Usage
        })
      }
      onRun({
        graph,
        durable: Option.match(args.runId, {
          onNone: () => undefined,
          onSome: (runId) => ({
            runId,
            store: Option.getOrUndefined(args.store),
            remote: args.remote ? { waitSeconds: Option.getOrElse(args.waitForRunners, () => 15) } : undefined
          })
        }),
        options: {
          concurrency: Option.getOrUndefined(args.concurrency),
          mode: args.mode,
          reporter: Option.getOrElse(args.reporter as Option.Option<Reporter.Kind>, () => "auto" as const),
          logDir: Option.getOrUndefined(args.logDir),
          junit: Option.getOrUndefined(args.junit),
          html: Option.getOrUndefined(args.html),
          mermaid: args.mermaid,
          logLevel
        }
      })
    })).pipe(Command.withDescription("run the graph FILE exports (or, with --dry-run, only show its plan)"))

const runnerOptions = {
  file: Args.file({ name: "FILE" }).pipe(
    Args.withDescription("a .ts or .js module whose default export is a graph: the graph whose tasks this runner runs")
  ),
  store: Options.text("store").pipe(
    Options.withPseudoName("postgres://…"),
    Options.withDescription("the cluster's store: a postgres:// URL (the same for every runner and submitter)")
  ),
  listen: Options.text("listen").pipe(
    Options.withPseudoName("HOST:PORT"),
    Options.withDescription("where this runner listens, and where the other members of the cluster reach it")
  )
}

const runnerCommand = (onRunner: (request: RunnerRequest) => void) =>
  Command.make("runner", runnerOptions, (args) =>
    Effect.map(loadGraph(args.file), (graph) => onRunner({ graph, store: args.store, listen: args.listen }))).pipe(
      Command.withDescription("run the tasks of remote runs of the graph FILE exports (see docs/durable.md), until SIGINT or SIGTERM")
    )

/**
 * The `effect-taskgraph` command, with its `run` and `runner` subcommands.
 * `onRun` receives the graph and options of a real run (not of
 * `--dry-run`); `onRunner` what a `runner` was asked to serve.
 *
 * @example
 * ```ts
 * import type { TaskGraph } from "effect-taskgraph"
 * import { Main } from "effect-taskgraph/node"
 * import { Cli } from "effect-taskgraph/cli"
 * // a graph from a user's file: what it requires is checked when it starts
 * const cli = Cli.command(({ graph, options }) =>
 *   Main.runMain(graph as TaskGraph.TaskGraph<unknown, never, unknown>, options)
 * )
 * ```
 *
 * @since 0.1.0
 * @category constructors
 */
export const command = (
  onRun: (request: RunRequest) => void,
  onRunner: (request: RunnerRequest) => void = () => {}
) =>
  Command.make("effect-taskgraph").pipe(
    Command.withDescription("run a graph of tasks with structured concurrency"),
    Command.withSubcommands([runCommand(onRun), runnerCommand(onRunner)])
  )

const version = (): string => {
  try {
    const pkg = JSON.parse(fs.readFileSync(new URL("../package.json", import.meta.url), "utf8")) as { version?: string }
    return pkg.version ?? "0.0.0"
  } catch {
    return "0.0.0"
  }
}

/** Loaded only for durable runs and runners: the cluster and sql libraries stay out of a plain run. */
const loadDurable = () =>
  import("./Durable.js").catch((error): never => {
    process.stderr.write(
      `error: durable runs need @effect/workflow, @effect/cluster, @effect/sql, @effect/rpc and @effect/experimental ` +
        `(and @effect/sql-sqlite-node or @effect/sql-pg for the store): ${String(error)}\n`
    )
    return process.exit(Main.ExitCode.Failed)
  })

/**
 * Runs the command line: parses `argv` (as `process.argv`: node, script,
 * then the arguments), then runs, validates or explains, and exits with the
 * codes listed in the module's description.
 *
 * @example
 * ```ts
 * import { Cli } from "effect-taskgraph/cli"
 * Cli.main(process.argv)
 * ```
 *
 * @since 0.1.0
 * @category running
 */
export const main = (argv: ReadonlyArray<string> = process.argv): void => {
  let request: RunRequest | undefined
  let runner: RunnerRequest | undefined
  const cli = Command.run(command((r) => (request = r), (r) => (runner = r)), {
    name: "effect-taskgraph",
    version: version(),
    executable: "effect-taskgraph"
  })
  const program = cli(argv).pipe(Effect.provide(NodeContext.layer))
  Effect.runPromiseExit(program).then((exit) => {
    if (exit._tag === "Success") {
      if (runner !== undefined) {
        const { graph, listen, store } = runner
        return loadDurable().then((Durable) => Durable.runnerMain([graph], { store, listen }))
      }
      if (request === undefined) return process.exit(Main.ExitCode.Succeeded)
      // the graph came from a user's file: its requirements are checked when it starts
      const graph = request.graph as TaskGraph.TaskGraph<unknown, never, unknown>
      const durable = request.durable
      if (durable === undefined) return Main.runMain(graph, request.options)
      // loaded only for durable runs: the cluster and sqlite libraries stay out of a plain run
      return loadDurable().then((Durable) => {
        const options = { ...request!.options, runId: durable.runId }
        if (durable.remote === undefined) return Durable.runMain(graph, { ...options, store: durable.store })
        return Durable.runRemoteMain(graph, {
          ...options,
          store: durable.store!,
          waitForRunners: `${durable.remote.waitSeconds} seconds`
        })
      })
    }
    const failure = Cause.failureOption(exit.cause)
    if (Option.isSome(failure)) {
      const error = failure.value
      // @effect/cli already printed what was wrong with the arguments
      if (ValidationError.isValidationError(error)) return process.exit(Main.ExitCode.Usage)
      if (error instanceof CliError) {
        process.stderr.write(`error: ${error.message}\n`)
        return process.exit(error.exitCode)
      }
      if (typeof error === "object" && error !== null && "message" in error) {
        process.stderr.write(`error: ${String(error.message)}\n`)
        return process.exit(Main.ExitCode.Failed)
      }
    }
    process.stderr.write(`${prettyCause(exit.cause)}\n`)
    process.exit(Main.ExitCode.Failed)
  })
}
