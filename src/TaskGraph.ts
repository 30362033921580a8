/**
 * Building, validating, drawing and running a graph of tasks.
 *
 * @example
 * ```ts
 * import { Context, Effect } from "effect"
 * import { Task, TaskGraph } from "effect-taskgraph"
 *
 * class Overlay extends Context.Tag("Overlay")<Overlay, { readonly path: string }>() {}
 * class Vm extends Context.Tag("Vm")<Vm, { readonly sshPort: number }>() {}
 *
 * const overlay = Task.make("create overlay image", { provides: Overlay, run: Effect.succeed({ path: "o.qcow2" }) })
 * const vm = Task.make("start vm", { requires: [Overlay], provides: Vm, run: Effect.succeed({ sshPort: 2222 }) })
 * const tests = Task.make("run tests", { requires: [Vm], run: Effect.succeed(42) })
 *
 * const graph = TaskGraph.make("run tests once", [overlay, vm, tests])
 * const report = TaskGraph.run(graph, { concurrency: 4 })   // Effect<RunReport, TaskGraphError, never>
 * ```
 *
 * @since 0.1.0
 */
import type { Exit, Fiber, FiberStatus, Scope } from "effect"
import { Cause, Chunk, Clock, Context, Deferred, Effect, Either, Inspectable, Layer, Option, Runtime, RuntimeFlags, Stream } from "effect"
import type { Pipeable } from "effect/Pipeable"
import { dual } from "effect/Function"
import { pipeArguments } from "effect/Pipeable"
import * as GraphError from "./GraphError.js"
import * as ContextMap from "./internal/contextMap.js"
import * as Html from "./internal/html/load.js"
import { label, nodeId } from "./internal/mermaid.js"
import type { CompiledPlan, GraphSource } from "./internal/plan.js"
import { compile } from "./internal/plan.js"
import * as Scheduler from "./internal/scheduler.js"
import type { NestPoint } from "./internal/nesting.js"
import * as Nesting from "./internal/nesting.js"
import { printsAsFields } from "./internal/printing.js"
import * as Report from "./internal/report.js"
import * as Text from "./internal/reporter/text.js"
import { safeJson } from "./internal/errorText.js"
import { hooksFrom } from "./internal/taskHooks.js"
import type * as RunReport from "./RunReport.js"
import type { TaskState } from "./RunReport.js"
import type { Task } from "./Task.js"
import type { TaskFailure, TaskTimeoutError, UndeclaredDependencyError } from "./TaskError.js"
import { RunFailedError } from "./TaskError.js"
import type * as TaskEvent from "./TaskEvent.js"

export {
  /**
   * The state of a task (defined in `RunReport`, re-exported here).
   *
   * @example
   * ```ts
   * import { Effect } from "effect"
   * import type { TaskGraph } from "effect-taskgraph"
   *
   * declare const handle: TaskGraph.Handle<never>
   * const running = Effect.map(handle.status, (states) =>
   *   Object.keys(states).filter((name) => states[name] === ("running" satisfies TaskGraph.TaskState)))
   * ```
   *
   * @since 0.1.0
   * @category models
   */
  type TaskState
} from "./RunReport.js"

/**
 * A data edge: `from` provides `tag`, `to` requires it.
 *
 * @example
 * ```ts
 * import type { TaskGraph } from "effect-taskgraph"
 *
 * const edge: TaskGraph.DataEdge = { from: "start vm", to: "wait for ssh", tag: "vm/Vm" }
 * ```
 *
 * @since 0.1.0
 * @category models
 */
export interface DataEdge {
  readonly from: string
  readonly to: string
  readonly tag: string
}

/**
 * A precedence edge: `before` must finish its run before `after` starts.
 *
 * @example
 * ```ts
 * import type { TaskGraph } from "effect-taskgraph"
 *
 * const edge: TaskGraph.PrecedenceEdge = { before: "migrate database", after: "run tests" }
 * ```
 *
 * @since 0.1.0
 * @category models
 */
export interface PrecedenceEdge {
  readonly before: string
  readonly after: string
}

/**
 * A tag that no task of the graph provides: it must come from the context.
 *
 * @example
 * ```ts
 * import { Effect } from "effect"
 * import { TaskGraph } from "effect-taskgraph"
 *
 * declare const graph: TaskGraph.TaskGraph.Any
 * const external = Effect.map(TaskGraph.validate(graph), (plan) =>
 *   plan.external.map((e: TaskGraph.ExternalRequirement) => `${e.tag} for ${e.requiredBy.join(", ")}`))
 * ```
 *
 * @since 0.1.0
 * @category models
 */
export interface ExternalRequirement {
  readonly tag: string
  readonly requiredBy: ReadonlyArray<string>
}


/**
 * Marks every task graph.
 *
 * @example
 * ```ts
 * import { Effect } from "effect"
 * import { Task, TaskGraph } from "effect-taskgraph"
 *
 * const graph = TaskGraph.make("g", [Task.make("a", { run: Effect.void })])
 * TaskGraph.TypeId in graph // true
 * ```
 *
 * @since 0.1.0
 * @category type ids
 */
export const TypeId: unique symbol = Symbol.for("effect-taskgraph/TaskGraph")
/**
 * The type of `TaskGraph.TypeId`.
 *
 * @example
 * ```ts
 * import { TaskGraph } from "effect-taskgraph"
 *
 * declare const graph: TaskGraph.TaskGraph
 * const markers = graph[TaskGraph.TypeId]
 * ```
 *
 * @since 0.1.0
 * @category type ids
 */
export type TypeId = typeof TypeId

/**
 * A named set of tasks plus precedence edges.
 *
 * - `E`: the union of the tasks' errors.
 * - `R`: what running it needs: every ambient service the tasks use, plus
 *   every required tag no task of the graph provides.
 * - `Provides`: every tag its tasks provide (what `toLayer` builds).
 *
 * @example
 * ```ts
 * import { Context, Effect } from "effect"
 * import { Task, TaskGraph } from "effect-taskgraph"
 *
 * class Db extends Context.Tag("Db")<Db, { readonly url: string }>() {}
 * const migrate = Task.make("migrate", { requires: [Db], run: Effect.void })
 * const graph: TaskGraph.TaskGraph<never, Db> = TaskGraph.make("migrate", [migrate])
 * ```
 *
 * @since 0.1.0
 * @category models
 */
export interface TaskGraph<out E = never, out R = never, out Provides = never> extends Pipeable {
  readonly [TypeId]: {
    readonly _E: (_: never) => E
    readonly _R: (_: never) => R
    readonly _Provides: (_: never) => Provides
  }
  readonly name: string
  readonly tasks: ReadonlyArray<Task.Any>
  /** `[a, b]`: a must finish its run before b starts */
  readonly precedences: ReadonlyArray<readonly [Task.Any, Task.Any]>
}

/**
 * Types computed from a graph's type parameters.
 *
 * @example
 * ```ts
 * import { Effect } from "effect"
 * import { Task, TaskGraph } from "effect-taskgraph"
 *
 * const graph = TaskGraph.make("g", [Task.make("a", { run: Effect.fail("boom") })])
 * type Errors = TaskGraph.TaskGraph.Error<typeof graph> // string
 * const any: TaskGraph.TaskGraph.Any = graph
 * ```
 *
 * @since 0.1.0
 * @category models
 */
export declare namespace TaskGraph {
  /**
   * Any graph.
   *
   * @example
   * ```ts
   * import { Effect } from "effect"
   * import { Task, TaskGraph } from "effect-taskgraph"
   *
   * const graphs: ReadonlyArray<TaskGraph.TaskGraph.Any> = [TaskGraph.make("a", [Task.make("a", { run: Effect.void })])]
   * const names = graphs.map((graph) => graph.name)
   * ```
   *
   * @since 0.1.0
   * @category models
   */
  export type Any = TaskGraph<unknown, unknown, unknown>
  /**
   * The union of a graph's task errors.
   *
   * @example
   * ```ts
   * import { Effect } from "effect"
   * import { Task, TaskGraph } from "effect-taskgraph"
   *
   * const graph = TaskGraph.make("g", [Task.make("a", { run: Effect.fail("boom" as const) })])
   * type Errors = TaskGraph.TaskGraph.Error<typeof graph> // "boom"
   * ```
   *
   * @since 0.1.0
   * @category models
   */
  export type Error<G> = G extends TaskGraph<infer E, infer _R, infer _P> ? E : never
  /**
   * What running a graph needs from outside.
   *
   * @example
   * ```ts
   * import { Context, Effect } from "effect"
   * import { Task, TaskGraph } from "effect-taskgraph"
   *
   * class Db extends Context.Tag("Db")<Db, { readonly url: string }>() {}
   * const graph = TaskGraph.make("g", [Task.make("migrate", { requires: [Db], run: Effect.void })])
   * type Needs = TaskGraph.TaskGraph.Context<typeof graph> // Db
   * ```
   *
   * @since 0.1.0
   * @category models
   */
  export type Context<G> = G extends TaskGraph<infer _E, infer R, infer _P> ? R : never
  /**
   * What a graph provides.
   *
   * @example
   * ```ts
   * import { Context, Effect } from "effect"
   * import { Task, TaskGraph } from "effect-taskgraph"
   *
   * class Vm extends Context.Tag("Vm")<Vm, { readonly sshPort: number }>() {}
   * const graph = TaskGraph.make("g", [Task.make("start vm", { provides: Vm, run: Effect.succeed({ sshPort: 2222 }) })])
   * type Built = TaskGraph.TaskGraph.Provides<typeof graph> // Vm
   * ```
   *
   * @since 0.1.0
   * @category models
   */
  export type Provides<G> = G extends TaskGraph<infer _E, infer _R, infer P> ? P : never
}

// ---- type-level checks ------------------------------------------------------

type ProvidedBy<Tasks extends ReadonlyArray<Task.Any>> = Task.Provides<Tasks[number]>
type NeededBy<Tasks extends ReadonlyArray<Task.Any>> = Task.Context<Tasks[number]> | Task.Requires<Tasks[number]>

/** Per task: the tags it uses in `run`, does not declare, and another task provides. */
type UndeclaredIn<T, Provided> = T extends Task<infer _A, infer _E, infer R, infer _P, infer Q>
  ? Extract<Exclude<R, Q>, Provided>
  : never

/**
 * `unknown` when every task declares what it uses from other tasks; otherwise
 * an object type whose property name explains the error, shown by the
 * compiler at `TaskGraph.make`.
 *
 * @example
 * ```ts
 * import { Effect } from "effect"
 * import { Task, TaskGraph } from "effect-taskgraph"
 *
 * const tasks = [Task.make("a", { run: Effect.void })] as const
 * const ok: TaskGraph.CheckUndeclared<typeof tasks> = {} // unknown: every use is declared
 * ```
 *
 * @since 0.1.0
 * @category models
 */
export type CheckUndeclared<Tasks extends ReadonlyArray<Task.Any>> = [
  UndeclaredIn<Tasks[number], ProvidedBy<Tasks>>
] extends [never] ? unknown
  : {
    readonly "a task uses a service that another task of the graph provides, without listing it in requires": UndeclaredIn<
      Tasks[number],
      ProvidedBy<Tasks>
    >
  }

const GraphProto = {
  [TypeId]: { _E: (_: never) => _, _R: (_: never) => _, _Provides: (_: never) => _ },
  pipe() {
    // eslint-disable-next-line prefer-rest-params
    return pipeArguments(this, arguments)
  },
  toString(this: TaskGraph.Any) {
    return `TaskGraph(${this.name}, ${Text.count(this.tasks.length, "task")})`
  },
  toJSON(this: TaskGraph.Any) {
    return {
      _id: "TaskGraph",
      name: this.name,
      tasks: this.tasks.map(Inspectable.toJSON),
      precedences: this.precedences.map(([before, after]) => ({ before: before.name, after: after.name }))
    }
  },
  [Inspectable.NodeInspectSymbol](this: TaskGraph.Any) {
    return Inspectable.toJSON(this)
  }
}

const makeGraph = <E, R, P>(
  name: string,
  tasks: ReadonlyArray<Task.Any>,
  precedences: ReadonlyArray<readonly [Task.Any, Task.Any]>
): TaskGraph<E, R, P> => {
  const graph = Object.create(GraphProto)
  graph.name = name
  graph.tasks = tasks
  graph.precedences = precedences
  return graph
}

/**
 * Makes a graph from tasks (in any order). The compiler rejects a task that
 * uses, in its `run`, a tag another task provides without listing it in
 * `requires`.
 *
 * @example
 * ```ts
 * import { Effect } from "effect"
 * import { Task, TaskGraph } from "effect-taskgraph"
 *
 * const a = Task.make("a", { run: Effect.succeed(1) })
 * const b = Task.make("b", { after: [a], run: Effect.succeed(2) })
 * const graph = TaskGraph.make("two steps", [a, b])
 * ```
 *
 * @since 0.1.0
 * @category constructors
 */
export const make = <const Tasks extends ReadonlyArray<Task.Any>>(
  name: string,
  tasks: Tasks & CheckUndeclared<Tasks>
): TaskGraph<
  Task.Error<Tasks[number]>,
  Exclude<NeededBy<Tasks>, ProvidedBy<Tasks>>,
  ProvidedBy<Tasks>
> => makeGraph(name, tasks, [])

/**
 * Is this value a graph?
 *
 * @example
 * ```ts
 * import { TaskGraph } from "effect-taskgraph"
 * TaskGraph.isTaskGraph(TaskGraph.make("empty", [])) // true
 * ```
 *
 * @since 0.1.0
 * @category guards
 */
export const isTaskGraph = (u: unknown): u is TaskGraph.Any => typeof u === "object" && u !== null && TypeId in u

/** For `dual`: is the call data-first (the graph given first)? */
const isGraphFirst = (args: IArguments): boolean => isTaskGraph(args[0])

/**
 * Adds ordering without data: `precedence(a, b, c)` runs a before b before c.
 * Data-last (`graph.pipe(TaskGraph.precedence(a, b))`) or data-first.
 *
 * @example
 * ```ts
 * import { Effect } from "effect"
 * import { Task, TaskGraph } from "effect-taskgraph"
 *
 * const port = Task.make("wait until port is ready", { run: Effect.void })
 * const ssh = Task.make("wait until ssh is ready", { run: Effect.void })
 * const graph = TaskGraph.make("boot", [port, ssh]).pipe(TaskGraph.precedence(port, ssh))
 * ```
 *
 * @since 0.1.0
 * @category combinators
 */
export const precedence: {
  (...tasks: ReadonlyArray<Task.Any>): <E, R, P>(self: TaskGraph<E, R, P>) => TaskGraph<E, R, P>
  <E, R, P>(self: TaskGraph<E, R, P>, ...tasks: ReadonlyArray<Task.Any>): TaskGraph<E, R, P>
} = dual(
  isGraphFirst,
  <E, R, P>(self: TaskGraph<E, R, P>, ...tasks: ReadonlyArray<Task.Any>): TaskGraph<E, R, P> => addPrecedence(self, tasks)
)

const addPrecedence = <E, R, P>(self: TaskGraph<E, R, P>, chain: ReadonlyArray<Task.Any>): TaskGraph<E, R, P> => {
  const pairs: Array<readonly [Task.Any, Task.Any]> = []
  for (let k = 1; k < chain.length; k++) pairs.push([chain[k - 1]!, chain[k]!])
  return makeGraph(self.name, self.tasks, [...self.precedences, ...pairs])
}

// ---- plans ----------------------------------------------------------------

/**
 * A validated graph: what will run, in which order, and why.
 *
 * @example
 * ```ts
 * import { Effect } from "effect"
 * import { Task, TaskGraph } from "effect-taskgraph"
 *
 * const a = Task.make("a", { run: Effect.void })
 * const b = Task.make("b", { after: [a], run: Effect.void })
 * const layers = Effect.map(TaskGraph.validate(TaskGraph.make("g", [a, b])), (plan: TaskGraph.Plan) => plan.layers)
 * ```
 *
 * @since 0.1.0
 * @category models
 */
export interface Plan {
  readonly graph: string
  readonly tasks: ReadonlyArray<string>
  /** topological layers: every task of a layer only waits for earlier layers */
  readonly layers: ReadonlyArray<ReadonlyArray<string>>
  /** data edges: provider -> consumer, with the tag */
  readonly dependencies: ReadonlyArray<DataEdge>
  readonly precedences: ReadonlyArray<PrecedenceEdge>
  /** required tags no task provides: they must be in the run's context */
  readonly external: ReadonlyArray<ExternalRequirement>
}

const compiledCache = new WeakMap<GraphSource, Either.Either<CompiledPlan, GraphError.GraphError>>()
const compileCached = (graph: TaskGraph.Any): Either.Either<CompiledPlan, GraphError.GraphError> => {
  let compiled = compiledCache.get(graph)
  if (compiled === undefined) {
    compiled = compile(graph)
    compiledCache.set(graph, compiled)
  }
  return compiled
}

/** The plan's larger parts are computed on first access: validating 100k tasks need not name 300k edges. */
const toPlan = (compiled: CompiledPlan): Plan => {
  let layers: ReadonlyArray<ReadonlyArray<string>> | undefined
  return printsAsFields({
    graph: compiled.source.name,
    tasks: compiled.names,
    get layers() {
      return layers ??= compiled.layers.map((layer) => layer.map((i) => compiled.names[i]!))
    },
    get dependencies() {
      return compiled.dataEdges
    },
    get precedences() {
      return compiled.precedenceEdges
    },
    external: compiled.external.map(({ requiredBy, tag }) => ({ tag, requiredBy }))
  })
}

/**
 * Checks a graph without running anything: unique names, known tasks in
 * precedences, one provider per tag, no self-dependency, no cycle.
 *
 * @example
 * ```ts
 * import { Effect } from "effect"
 * import { Task, TaskGraph } from "effect-taskgraph"
 *
 * const graph = TaskGraph.make("g", [Task.make("a", { run: Effect.void })])
 * const layers = TaskGraph.validate(graph).pipe(Effect.map((plan) => plan.layers)) // [["a"]]
 * ```
 *
 * @since 0.1.0
 * @category validation
 */
export const validate = <E, R, P>(graph: TaskGraph<E, R, P>): Effect.Effect<Plan, GraphError.GraphError> =>
  Effect.map(compileCached(graph), toPlan)

/**
 * The planned graph as a Mermaid flowchart: data edges labelled with the tag
 * key, precedence edges dashed, tags from outside the graph as rounded nodes.
 *
 * @example
 * ```ts
 * import { Effect } from "effect"
 * import { Task, TaskGraph } from "effect-taskgraph"
 *
 * const a = Task.make("a", { run: Effect.void })
 * const b = Task.make("b", { after: [a], run: Effect.void })
 * TaskGraph.toMermaid(TaskGraph.make("g", [a, b]))
 * // flowchart TD
 * //   t0["a"]
 * //   t1["b"]
 * //   t0 -.-> t1
 * ```
 *
 * @since 0.1.0
 * @category rendering
 */
export const toMermaid = <E, R, P>(graph: TaskGraph<E, R, P>): string => {
  const compiled = compileCached(graph)
  // an invalid graph (a cycle, a duplicate provider…) has no plan: draw what its tasks declare
  if (Either.isLeft(compiled)) return mermaidOfDeclared(graph)
  const plan = compiled.right
  const lines = ["flowchart TD"]
  plan.names.forEach((name, i) => lines.push(`  ${nodeId(i)}["${label(name)}${providesLabel(plan.tasks[i]!)}"]`))
  const index = new Map(plan.names.map((name, i) => [name, i]))
  Report.edges(plan.dataEdges, plan.precedenceEdges, index, lines)
  plan.external.forEach(({ requiredBy, tag }, k) => {
    lines.push(`  x${k}(["${label(tag)} (from context)"])`)
    for (const user of requiredBy) lines.push(`  x${k} -- "${label(tag)}" --> ${nodeId(index.get(user)!)}`)
  })
  return lines.join("\n")
}

const mermaidOfDeclared = (graph: TaskGraph.Any): string => {
  const lines = ["flowchart TD"]
  graph.tasks.forEach((task, i) => lines.push(`  ${nodeId(i)}["${label(task.name)}${providesLabel(task)}"]`))
  const index = new Map(graph.tasks.map((t, i) => [t.name, i]))
  const providers = new Map<string, string>()
  for (const task of graph.tasks) for (const tag of task.provides) providers.set(tag.key, task.name)
  const dependencies: Array<DataEdge> = []
  const external = new Map<string, Array<string>>()
  for (const task of graph.tasks) {
    for (const tag of task.requires) {
      const from = providers.get(tag.key)
      if (from === undefined) external.set(tag.key, [...(external.get(tag.key) ?? []), task.name])
      else dependencies.push({ from, to: task.name, tag: tag.key })
    }
  }
  const precedences: Array<PrecedenceEdge> = []
  for (const task of graph.tasks) {
    for (const before of task.after) {
      if (index.has(before.name)) precedences.push({ before: before.name, after: task.name })
    }
  }
  for (const [a, b] of graph.precedences) {
    if (index.has(a.name) && index.has(b.name)) precedences.push({ before: a.name, after: b.name })
  }
  Report.edges(dependencies, precedences, index, lines)
  let k = 0
  for (const [tag, users] of external) {
    lines.push(`  x${k}(["${label(tag)} (from context)"])`)
    for (const user of users) lines.push(`  x${k} -- "${label(tag)}" --> ${nodeId(index.get(user)!)}`)
    k++
  }
  return lines.join("\n")
}

/** A layer task's node lists every tag it provides (a single-tag task shows its tag on its edges). */
const providesLabel = (task: Task.Any): string =>
  task.publishes === "context" && task.provides.length > 0
    ? `<br/>provides ${label(task.provides.map((tag) => tag.key).join(", "))}`
    : ""

/**
 * The planned graph as a self-contained HTML page (styles, script and the
 * SVG drawing inlined; it opens offline and makes no request): the same
 * drawing as the run report of `Reporter.html` — laid out by
 * `@dagrejs/dagre`, data edges labelled with the tag, precedence edges
 * dashed, tags from the caller's context as "from context" input nodes —
 * with every task in a table. Validates the graph first; the
 * layout library is loaded on first use, never by the core entry.
 *
 * @example
 * ```ts
 * import { Effect } from "effect"
 * import * as fs from "node:fs"
 * import { Task, TaskGraph } from "effect-taskgraph"
 *
 * const a = Task.make("a", { run: Effect.void })
 * const b = Task.make("b", { after: [a], run: Effect.void })
 * const write = TaskGraph.toHtml(TaskGraph.make("g", [a, b])).pipe(
 *   Effect.map((html) => fs.writeFileSync("graph.html", html))
 * )
 * ```
 *
 * @since 0.1.0
 * @category rendering
 */
export const toHtml = <E, R, P>(
  graph: TaskGraph<E, R, P>,
  options: { readonly maxDrawn?: number | undefined } = {}
): Effect.Effect<string, GraphError.GraphError> =>
  Effect.flatMap(validate(graph), (plan) =>
    Effect.flatMap(Clock.currentTimeMillis, (now) =>
      Effect.flatMap(Html.load, ({ Data, Render }) =>
        Render.render(Data.fromPlan(plan, { maxDrawn: options.maxDrawn ?? Render.DEFAULT_MAX_DRAWN, now }))
      ).pipe(Effect.orDie)))

// ---- running -------------------------------------------------------------------

/**
 * How a run behaves.
 *
 * @example
 * ```ts
 * import { TaskGraph } from "effect-taskgraph"
 *
 * declare const graph: TaskGraph.TaskGraph
 * const options: TaskGraph.RunOptions = { concurrency: 4, mode: "continue", pools: { vm: 2 } }
 * const report = TaskGraph.run(graph, options)
 * ```
 *
 * @since 0.1.0
 * @category models
 */
export interface RunOptions {
  /** at most this many tasks in their run phase at once (default: unbounded) */
  readonly concurrency?: number | "unbounded" | undefined
  /**
   * `fail-fast` (default): the first failure interrupts everything running,
   * skips the rest and releases everything. `continue`: only the dependents of
   * a failed task are skipped; the run still fails at the end.
   */
  readonly mode?: "fail-fast" | "continue" | undefined
  /** sizes of the named pools tasks use, e.g. `{ vm: 2 }` */
  readonly pools?: Readonly<Record<string, number>> | undefined
  /**
   * Run each task in a span named after it. Default `"auto"`: when a tracer
   * other than Effect's built-in one is installed (e.g. OpenTelemetry), i.e.
   * when someone will see the spans; a span costs ~2 µs a task otherwise wasted.
   */
  readonly spans?: boolean | "auto" | undefined
  /**
   * For a graph run inside a task (graphs inside tasks): run it as a stranger
   * to the enclosing run, with its own concurrency and pools, its events and
   * report its own. By default (`false`) a run started from a task's fiber
   * joins the run it is in: see the README, "Graphs inside tasks".
   */
  readonly isolated?: boolean | undefined
}

/**
 * Options of `TaskGraph.start`: those of a run, and whether it starts paused.
 *
 * @example
 * ```ts
 * import type { TaskGraph } from "effect-taskgraph"
 *
 * const options: TaskGraph.StartOptions = { concurrency: 4, paused: true }
 * ```
 *
 * @since 0.1.0
 * @category models
 */
export interface StartOptions extends RunOptions {
  /**
   * Start with the run paused: no task starts until `handle.resume` (default `false`). Lets a
   * caller set things up against the handle (subscribe, show a view, pause again at will) before
   * the first task runs.
   */
  readonly paused?: boolean | undefined
}

export {
  /**
   * A run in which at least one task failed (defined in `TaskError`, re-exported here).
   *
   * @example
   * ```ts
   * import { Effect } from "effect"
   * import { TaskGraph } from "effect-taskgraph"
   *
   * declare const graph: TaskGraph.TaskGraph<string>
   * const program = TaskGraph.run(graph).pipe(
   *   Effect.catchTag("RunFailedError", (e: TaskGraph.RunFailedError<string>) => Effect.succeed(e.report))
   * )
   * ```
   *
   * @since 0.1.0
   * @category errors
   */
  RunFailedError,
  /**
   * One failed task of a failed run (defined in `TaskError`, re-exported here).
   *
   * @example
   * ```ts
   * import type { TaskGraph } from "effect-taskgraph"
   *
   * const where = (failure: TaskGraph.TaskFailure<string>): string =>
   *   failure.during === "release" ? `${failure.task}: a finalizer died` : `${failure.task} failed`
   * ```
   *
   * @since 0.1.0
   * @category models
   */
  type TaskFailure
} from "./TaskError.js"

/**
 * What `run` and `toLayer` fail with: the graph was invalid (nothing ran), or
 * a task failed (everything was cleaned up).
 *
 * @example
 * ```ts
 * import { Effect } from "effect"
 * import { GraphError, TaskGraph } from "effect-taskgraph"
 *
 * declare const graph: TaskGraph.TaskGraph<string>
 * const program = TaskGraph.run(graph).pipe(
 *   Effect.catchAll((e: TaskGraph.TaskGraphError<string>) => Effect.log(GraphError.isGraphError(e) ? "invalid graph" : "a task failed"))
 * )
 * ```
 *
 * @since 0.1.0
 * @category errors
 */
export type TaskGraphError<E = unknown> = GraphError.GraphError | RunFailedError<E>

interface Prepared {
  readonly compiled: CompiledPlan
  readonly options: Omit<Scheduler.SchedulerOptions, "tracer" | "spans"> & { readonly spans: boolean | "auto" }
}

/** The task this run is started in, if any, and what it offers (graphs inside tasks). */
const enclosing = (
  fiber: Fiber.RuntimeFiber<unknown, unknown>,
  options: RunOptions | undefined,
  extra: { readonly hold: boolean }
): NestPoint | undefined =>
  options?.isolated === true || extra.hold ? undefined : hooksFrom(fiber.currentContext, fiber.getFiberRefs())?.nest?.()

/** A child graph's validation error names the child graph. */
const inChild = (name: string) => (error: GraphError.GraphError): GraphError.GraphError => {
  const Ctor = error.constructor as new(fields: object) => GraphError.GraphError
  return new Ctor({ ...error, graph: name })
}

/**
 * Validates the graph and the options in the fiber that runs it (its context, the enclosing task).
 * Plain synchronous code, not Effect.gen or Effect.all: a CLI's run is the first in its process, and
 * every combinator on this path is V8 code compiled on its first call (bench/README.md).
 */
const prepareIn = (
  fiber: Fiber.RuntimeFiber<unknown, unknown>,
  graph: TaskGraph.Any,
  options: RunOptions | undefined,
  extra: { readonly hold: boolean; readonly events: boolean }
): Prepared | GraphError.GraphError => {
  const nest = enclosing(fiber, options, extra)
  const prepared = prepareWith(fiber, graph, options, extra, nest)
  return nest !== undefined && !isPrepared(prepared) ? inChild(graph.name)(prepared) : prepared
}

const isPrepared = (u: Prepared | GraphError.GraphError): u is Prepared => "compiled" in u

const prepareWith = (
  fiber: Fiber.RuntimeFiber<unknown, unknown>,
  graph: TaskGraph.Any,
  options: RunOptions | undefined,
  extra: { readonly hold: boolean; readonly events: boolean },
  nest: NestPoint | undefined
): Prepared | GraphError.GraphError => {
  const compiledOrError = compileCached(graph)
  if (Either.isLeft(compiledOrError)) return compiledOrError.left
  const compiled = compiledOrError.right
  const concurrency = options?.concurrency ?? "unbounded"
  if (concurrency !== "unbounded" && (!Number.isInteger(concurrency) || concurrency <= 0)) {
    return new GraphError.InvalidOptionError({
      option: "concurrency",
      reason: `must be a positive integer or "unbounded", got ${typeof concurrency === "string" ? JSON.stringify(concurrency) : concurrency}`
    })
  }
  const mode: unknown = options?.mode
  if (mode !== undefined && mode !== "fail-fast" && mode !== "continue") {
    return new GraphError.InvalidOptionError({
      option: "mode",
      reason: `must be "fail-fast" (the default) or "continue", got ${typeof mode === "string" ? JSON.stringify(mode) : String(mode)}`
    })
  }
  const pools = options?.pools ?? {}
  for (const pool in pools) {
    const size = pools[pool]!
    if (!Number.isInteger(size) || size <= 0) {
      return new GraphError.InvalidOptionError({
        option: `pool "${pool}"`,
        reason: `size must be a positive integer, got ${size}`
      })
    }
  }
  for (const [pool, { max, task }] of compiled.poolWeights) {
    if (nest !== undefined && pools[pool] === undefined) {
      // a child run takes this pool from the enclosing run
      const shared = nest.capacity.poolSizes[pool]
      if (shared === undefined) {
        return new GraphError.InvalidOptionError({
          option: `pool "${pool}"`,
          reason: `task "${task}" uses it, but the run "${graph.name}" is inside task "${nest.path}", whose run ` +
            `defines no such pool: give the outermost run { pools: { ${pool}: N } }, or this run its own pools`
        })
      }
      const held = nest.held[pool] ?? 0
      if (max + held > shared) {
        return new GraphError.InvalidOptionError({
          option: `pool "${pool}"`,
          reason: `task "${task}" needs ${max} of it, but the enclosing task(s) of "${nest.path}" hold ${held} ` +
            `of its size ${shared} while they wait for this run: it could never start`
        })
      }
      continue
    }
    const size = pools[pool]
    if (size === undefined) {
      return new GraphError.InvalidOptionError({
        option: `pool "${pool}"`,
        reason: `task "${task}" uses it but the run gives it no size: pass { pools: { ${pool}: N } }`
      })
    }
    if (max > size) {
      return new GraphError.InvalidOptionError({
        option: `pool "${pool}"`,
        reason: `task "${task}" needs ${max} of it but its size is ${size}; it could never start`
      })
    }
  }
  if (compiled.external.length > 0) {
    const context = fiber.currentContext
    for (const ext of compiled.external) {
      if (Option.isNone(Context.getOption(context, ext.tagObject))) {
        return new GraphError.MissingProviderError({ tag: ext.tag, requiredBy: ext.requiredBy })
      }
    }
  }
  let child: Extract<Nesting.Named, { _tag: "Named" }> | undefined
  if (nest !== undefined) {
    // a child run's tasks are named `<task> / <graph> / <name>` in the enclosing run (`<graph> #2`, … for a
    // later run of that name in the same task)
    const named = Nesting.name(nest.capacity, nest.path, graph.name, compiled.names)
    if (named._tag === "Taken") {
      return new GraphError.DuplicateTaskError({
        task: named.name,
        tasks: [
          `task "${named.local}" of graph "${graph.name}" run inside "${nest.path}"` +
          (named.run === 1 ? "" : ` as "${graph.name} #${named.run}"`),
          `an earlier task of the run named "${named.name}"`
        ]
      })
    }
    child = named
  }
  return {
    compiled,
    options: {
      concurrency: concurrency === "unbounded" ? Number.POSITIVE_INFINITY : concurrency,
      mode: options?.mode ?? nest?.mode ?? "fail-fast",
      pools,
      hold: extra.hold,
      events: extra.events,
      spans: options?.spans ?? "auto",
      nest,
      group: child?.group,
      names: child?.names
    }
  }
}

/** `prepareIn` as an effect (start, toLayer). */
const prepare = (
  graph: TaskGraph.Any,
  options: RunOptions | undefined,
  extra: { readonly hold: boolean; readonly events: boolean }
): Effect.Effect<Prepared, GraphError.GraphError> =>
  Effect.withFiberRuntime((fiber) => {
    const prepared = prepareIn(fiber, graph, options, extra)
    return isPrepared(prepared) ? Effect.succeed(prepared) : Effect.fail(prepared)
  })

/** The scheduler of a prepared run, on the runtime, clock and tracer of the fiber that runs it. */
const schedulerIn = (
  fiber: Fiber.RuntimeFiber<unknown, unknown>,
  status: FiberStatus.Running,
  prepared: Prepared
): Scheduler.Scheduler => {
  const tracer = fiber.currentTracer
  return Scheduler.make(
    prepared.compiled,
    // tasks are interruptible even when the graph is started from an uninterruptible region (acquireRelease)
    Runtime.make({
      context: fiber.currentContext,
      fiberRefs: fiber.getFiberRefs(),
      runtimeFlags: RuntimeFlags.enable(status.runtimeFlags, RuntimeFlags.Interruption)
    }),
    Context.get(fiber.currentDefaultServices, Clock.Clock),
    {
      ...prepared.options,
      spans: prepared.options.spans === "auto" ? tracer !== nativeTracer : prepared.options.spans,
      tracer
    }
  )
}

/** `schedulerIn` as an effect (start, toLayer). */
const makeScheduler = (prepared: Prepared): Effect.Effect<Scheduler.Scheduler> =>
  Effect.withFiberRuntime((fiber, status) => Effect.succeed(schedulerIn(fiber, status, prepared)))

/** The tracer every Effect program has unless one is installed: its spans go nowhere. */
const nativeTracer = Effect.runSync(Effect.tracer)

const failuresOf = <E>(snap: Scheduler.Snapshot): Array<TaskFailure<E>> =>
  snap.failures.map((i) => ({
    task: snap.plan.names[i]!,
    cause: snap.causes[i]! as Cause.Cause<E | TaskTimeoutError | UndeclaredDependencyError>,
    during: snap.releaseFailed !== undefined && snap.releaseFailed[i] === 1 ? "release" : "run"
  }))

/** Waits for the scheduler; interrupting the waiter stops the run and waits for its cleanup. */
const awaitStopping = (scheduler: Scheduler.Scheduler) =>
  Deferred.await(scheduler.done).pipe(
    Effect.onInterrupt(() =>
      Effect.suspend(() => {
        scheduler.interrupt()
        return Deferred.await(scheduler.done)
      })
    )
  )

const reportOrFail = <E>(snap: Scheduler.Snapshot): Effect.Effect<RunReport.RunReport, RunFailedError<E>> => {
  const report = Report.fromSnapshot(snap)
  return snap.outcome === "failed"
    ? Effect.fail(new RunFailedError<E>({ report, failures: failuresOf<E>(snap) }))
    : Effect.succeed(report)
}

const runImpl = <E, R, P>(
  graph: TaskGraph<E, R, P>,
  options: RunOptions | undefined
): Effect.Effect<RunReport.RunReport, TaskGraphError<E>, R> =>
  // validated, scheduled and started synchronously in the caller's fiber: no combinator between the
  // call and the first task (a CLI's run is the first in its process, see prepareIn)
  Effect.withFiberRuntime((fiber, status) => {
    const prepared = prepareIn(fiber, graph, options, { hold: false, events: false })
    if (!isPrepared(prepared)) return Effect.fail(prepared)
    const scheduler = schedulerIn(fiber, status, prepared)
    scheduler.start()
    // a graph whose tasks all finished synchronously is over already: no need to wait
    const snap = scheduler.finalSnapshot()
    return snap !== undefined ? endOfRun<E>(snap) : Effect.flatMap(awaitStopping(scheduler), endOfRun<E>)
  })

const endOfRun = <E>(snap: Scheduler.Snapshot): Effect.Effect<RunReport.RunReport, RunFailedError<E>> =>
  snap.outcome === "interrupted" ? Effect.interrupt : reportOrFail<E>(snap)

/**
 * Validates the graph, then runs it: each task starts as soon as everything
 * it waits for is ready; resources are released as soon as no task needs
 * them; a failure (fail-fast) or an interruption stops everything and runs
 * every finalizer, dependents before their dependencies.
 *
 * Called from a task's fiber, the run joins the run it is in (README,
 * "Graphs inside tasks"): its tasks are named `<task> / <graph> / <name>`
 * there. A task's later run of a graph of a name it already ran (an earlier
 * attempt's, an earlier or concurrent run in the same body, finished or not)
 * is `<graph> #2`, then `#3`, …, in the order they start, so every run's
 * tasks stay in the report; the first keeps the plain name.
 *
 * @example
 * ```ts
 * import { Effect, Schedule } from "effect"
 * import { RunReport, Task, TaskGraph } from "effect-taskgraph"
 *
 * const graph = TaskGraph.make("g", [Task.make("a", { run: Effect.succeed(1) })])
 * // a flaky task retried: its second attempt's tasks are "flaky / g #2 / a"
 * const flaky = Task.make("flaky", { retry: Schedule.recurs(1), run: TaskGraph.run(graph) })
 * const program = TaskGraph.run(graph, { concurrency: 4, mode: "fail-fast" }).pipe(
 *   Effect.tap((report) => Effect.log(RunReport.summary(report)))
 * )
 * ```
 *
 * @since 0.1.0
 * @category running
 */
export const run: {
  (options?: RunOptions): <E, R, P>(graph: TaskGraph<E, R, P>) => Effect.Effect<RunReport.RunReport, TaskGraphError<E>, R>
  <E, R, P>(graph: TaskGraph<E, R, P>, options?: RunOptions): Effect.Effect<RunReport.RunReport, TaskGraphError<E>, R>
} = dual(isGraphFirst, runImpl)

/**
 * A running graph.
 *
 * @example
 * ```ts
 * import { Effect } from "effect"
 * import { TaskGraph } from "effect-taskgraph"
 *
 * declare const graph: TaskGraph.TaskGraph
 * const program = Effect.scoped(Effect.gen(function*() {
 *   const handle: TaskGraph.Handle<never> = yield* TaskGraph.start(graph)
 *   yield* handle.pause
 *   return yield* handle.interrupt
 * }))
 * ```
 *
 * @since 0.1.0
 * @category models
 */
export interface Handle<E> {
  /** Waits for the end; a report with status "interrupted" if `interrupt` stopped it. */
  readonly await: Effect.Effect<RunReport.RunReport, RunFailedError<E>>
  /** Stops the run, runs every finalizer, and returns the report. */
  readonly interrupt: Effect.Effect<RunReport.RunReport>
  /** `None` while running, then the outcome. */
  readonly poll: Effect.Effect<Option.Option<Exit.Exit<RunReport.RunReport, RunFailedError<E>>>>
  /** Each task's state now. */
  readonly status: Effect.Effect<Readonly<Record<string, TaskState>>>
  /** A report of the run so far. */
  readonly report: Effect.Effect<RunReport.RunReport>
  /** Every event from the start of the run (replayed), then live; ends after `RunFinished`. */
  readonly events: Stream.Stream<TaskEvent.TaskEvent>
  /** No new task starts while paused; running tasks go on. */
  readonly pause: Effect.Effect<void>
  readonly resume: Effect.Effect<void>
}

const eventStream = (scheduler: Scheduler.Scheduler): Stream.Stream<TaskEvent.TaskEvent> =>
  Stream.unfoldChunkEffect(0, (from) =>
    Effect.suspend(function next(): Effect.Effect<Option.Option<readonly [Chunk.Chunk<TaskEvent.TaskEvent>, number]>> {
      const events = scheduler.events
      if (from < events.length) {
        return Effect.succeed(Option.some([Chunk.unsafeFromArray(events.slice(from)), events.length] as const))
      }
      const last = events[events.length - 1]
      if (last !== undefined && last._tag === "RunFinished") return Effect.succeed(Option.none())
      return Effect.zipRight(Deferred.await(scheduler.nextEvent()), Effect.suspend(next))
    }))

const startImpl = <E, R, P>(
  graph: TaskGraph<E, R, P>,
  options: StartOptions | undefined
): Effect.Effect<Handle<E>, GraphError.GraphError, Scope.Scope | R> =>
  Effect.gen(function*() {
    const paused = options?.paused
    if (paused !== undefined && typeof paused !== "boolean") {
      return yield* Effect.fail(
        new GraphError.InvalidOptionError({ option: "paused", reason: `must be true or false, got ${safeJson(paused)}` })
      )
    }
    const prepared = yield* prepare(graph, options, { hold: false, events: true })
    const scheduler = yield* Effect.acquireRelease(
      Effect.map(makeScheduler(prepared), (scheduler) => {
        if (paused === true) scheduler.pause()
        scheduler.start()
        return scheduler
      }),
      (scheduler) =>
        Effect.suspend(() => {
          scheduler.interrupt()
          return Deferred.await(scheduler.done)
        })
    )
    const finished = Effect.flatMap(Deferred.await(scheduler.done), reportOrFail<E>)
    const handle: Handle<E> = {
      await: finished,
      interrupt: Effect.suspend(() => {
        scheduler.interrupt()
        return Effect.map(Deferred.await(scheduler.done), Report.fromSnapshot)
      }),
      poll: Effect.flatMap(Deferred.poll(scheduler.done), (polled) =>
        Option.match(polled, {
          onNone: () => Effect.succeedNone,
          onSome: (snap) => Effect.asSome(Effect.exit(Effect.flatMap(snap, reportOrFail<E>)))
        })),
      status: Effect.sync(() => {
        const snap = scheduler.snapshot()
        const status: Record<string, TaskState> = {}
        if (snap.children.length === 0) snap.plan.names.forEach((name, i) => (status[name] = snap.states[i]!))
        else for (const t of Report.fromSnapshot(snap).tasks) status[t.name] = t.status
        return status
      }),
      report: Effect.sync(() => Report.fromSnapshot(scheduler.snapshot())),
      events: eventStream(scheduler),
      pause: Effect.sync(() => scheduler.pause()),
      resume: Effect.sync(() => scheduler.resume())
    }
    return handle
  })

/**
 * Starts a graph in the background and returns a handle: `await`,
 * `interrupt`, `poll`, `status`, `events`, `pause`, `resume`. Closing the
 * scope interrupts the run and waits for its cleanup.
 *
 * @example
 * ```ts
 * import { Effect, Stream } from "effect"
 * import { Task, TaskGraph } from "effect-taskgraph"
 *
 * const graph = TaskGraph.make("g", [Task.make("a", { run: Effect.sleep("1 second") })])
 * const program = Effect.scoped(Effect.gen(function* () {
 *   const handle = yield* TaskGraph.start(graph)
 *   yield* Effect.fork(Stream.runForEach(handle.events, (e) => Effect.log(e._tag, e.task)))
 *   return yield* handle.await
 * }))
 * ```
 *
 * @since 0.1.0
 * @category running
 */
export const start: {
  (options?: StartOptions): <E, R, P>(graph: TaskGraph<E, R, P>) => Effect.Effect<Handle<E>, GraphError.GraphError, Scope.Scope | R>
  <E, R, P>(graph: TaskGraph<E, R, P>, options?: StartOptions): Effect.Effect<Handle<E>, GraphError.GraphError, Scope.Scope | R>
} = dual(isGraphFirst, startImpl)

const toLayerImpl = <E, R, P>(
  graph: TaskGraph<E, R, P>,
  options: RunOptions | undefined
): Layer.Layer<P, TaskGraphError<E>, R> =>
  Layer.scopedContext(
    Effect.gen(function*() {
      const prepared = yield* prepare(graph, options, { hold: true, events: false })
      // set once every task is ready: a failure after that (a finalizer dying at release) is the
      // scope's, before it the build's
      let built = false
      const scheduler = yield* Effect.acquireRelease(
        Effect.map(makeScheduler(prepared), (scheduler) => {
          scheduler.start()
          return scheduler
        }),
        (scheduler) =>
          Effect.flatMap(Deferred.isDone(scheduler.allReady), (ready) => {
            if (ready) scheduler.releaseAll()
            else scheduler.interrupt()
            // a finalizer that died while the layer was released fails the scope's close, as in Effect
            return Effect.flatMap(Deferred.await(scheduler.done), (final) =>
              built && final.outcome === "failed"
                ? Effect.die(new RunFailedError<E>({ report: Report.fromSnapshot(final), failures: failuresOf<E>(final) }))
                : Effect.void)
          })
      )
      const snap = yield* Deferred.await(scheduler.allReady).pipe(
        // allReady fails with the final snapshot (the run is over, everything released)
        Effect.catchAll((final) =>
          final.outcome === "interrupted"
            ? Effect.interrupt
            : Effect.fail(new RunFailedError<E>({ report: Report.fromSnapshot(final), failures: failuresOf<E>(final) }))
        )
      )
      built = true
      const map = new Map<string, unknown>()
      snap.plan.tasks.forEach((task, i) => {
        const value = snap.values[i]
        for (const tag of task.provides) {
          map.set(tag.key, task.publishes === "context" ? ContextMap.get(value as Context.Context<never>, tag.key) : value)
        }
      })
      return Context.unsafeMake<P>(map)
    })
  )

/**
 * The graph as a `Layer` that provides every tag its tasks provide. The
 * tasks run when the layer is built; their resources live as long as the
 * layer and are released, dependents first, when its scope closes.
 *
 * @example
 * ```ts
 * import { Context, Effect } from "effect"
 * import { Task, TaskGraph } from "effect-taskgraph"
 *
 * class Db extends Context.Tag("Db")<Db, { readonly url: string }>() {}
 * const db = Task.make("start db", { provides: Db, run: Effect.succeed({ url: "postgres://…" }) })
 *
 * const program = Effect.map(Db, (d) => d.url).pipe(Effect.provide(TaskGraph.toLayer(TaskGraph.make("env", [db]))))
 * ```
 *
 * @since 0.1.0
 * @category layers
 */
export const toLayer: {
  (options?: RunOptions): <E, R, P>(graph: TaskGraph<E, R, P>) => Layer.Layer<P, TaskGraphError<E>, R>
  <E, R, P>(graph: TaskGraph<E, R, P>, options?: RunOptions): Layer.Layer<P, TaskGraphError<E>, R>
} = dual(isGraphFirst, toLayerImpl)
