/**
 * Durable runs: a run with a run id keeps every task's outcome in a store
 * (`@effect/workflow` on `@effect/cluster`, sqlite by default). Running the
 * same graph again with the same id — after a crash, a SIGKILL, a reboot or
 * a failure — resumes it: a task that had succeeded is not run again (its
 * value comes back from the store); failed and never-run tasks run.
 *
 * What crosses a durable boundary is data: a task whose value another task
 * uses needs a `schema` (`Task.make(name, { provides, schema, run })`). A live
 * resource (a VM, a session) is marked `resource: true`: it and every task
 * that uses it form a *resource group* that runs again, as one unit and with
 * the usual release order, unless every task of the group had succeeded.
 *
 * @example
 * ```ts
 * import { Context, Effect, Schema } from "effect"
 * import { Task, TaskGraph } from "effect-taskgraph"
 * import { Durable } from "effect-taskgraph/durable"
 *
 * class Sum extends Context.Tag("Sum")<Sum, number>() {}
 * const sum = Task.make("sum", { provides: Sum, schema: Schema.Number, run: Effect.succeed(42) })
 * const show = Task.make("show", { requires: [Sum], run: Effect.flatMap(Sum, (n) => Effect.log(n)) })
 *
 * const program = Durable.run(TaskGraph.make("sums", [sum, show]), { runId: "nightly-1" }).pipe(
 *   Effect.provide(Durable.layerSqlite(".taskgraph/runs.db"))
 * )
 * ```
 *
 * @since 0.1.0
 */
import { createHash } from "node:crypto"
import * as NodeRuntime from "@effect/platform-node/NodeRuntime"
import type * as RunnerStorage from "@effect/cluster/RunnerStorage"
import type * as WorkflowEngine from "@effect/workflow/WorkflowEngine"
import { Cause, Console, Context, Data, type Duration, Effect, Exit, Layer, Option, Schema, Scope } from "effect"
import { dual } from "effect/Function"
import type * as GraphError from "./GraphError.js"
import type { Lookup, RunStore } from "./internal/durableStore.js"
import {
  DurableStore,
  isPostgres,
  layerFor as layerForInternal,
  layerPostgres as layerPostgresInternal,
  layerSqlite as layerSqliteInternal,
  openRun,
  redactUrl as redact,
  StoreError
} from "./internal/durableStore.js"
import { awaitRunners, layerClient as layerClusterClient, layerRunner, parseAddress, startRun } from "./internal/cluster.js"
import { withRuns } from "./internal/graphRuns.js"
import { remoteGraph } from "./internal/remote.js"
import { printsAsFields } from "./internal/printing.js"
import * as Main from "./Main.js"
import type * as RunReport from "./RunReport.js"
import * as Task from "./Task.js"
import * as TaskGraph from "./TaskGraph.js"
import { prettyCause } from "./internal/errorText.js"

export {
  /**
   * The store could not be opened (a bad path, a file that is not a
   * database): nothing ran.
   *
   * @example
   * ```ts
   * import { Effect, Layer } from "effect"
   * import { Durable } from "effect-taskgraph/durable"
   *
   * const store = Durable.layerSqlite("/read-only/runs.db").pipe(
   *   Layer.catchAll((e: Durable.StoreError) => Layer.fail(`cannot open ${e.store}: ${e.reason}`))
   * )
   * ```
   *
   * @since 0.1.0
   * @category errors
   */
  StoreError
}

/**
 * The opened store of durable runs, provided by `layerSqlite`.
 *
 * @example
 * ```ts
 * import { Effect } from "effect"
 * import { Durable } from "effect-taskgraph/durable"
 * const where = Effect.map(Durable.Store, (store) => store.location)
 * ```
 *
 * @since 0.1.0
 * @category services
 */
export const Store = DurableStore

/**
 * The default store of the command line: `.taskgraph/runs.db` in the working
 * directory.
 *
 * @example
 * ```ts
 * import { Durable } from "effect-taskgraph/durable"
 * Durable.defaultStore // ".taskgraph/runs.db"
 * ```
 *
 * @since 0.1.0
 * @category constants
 */
export const defaultStore = ".taskgraph/runs.db"

/**
 * A store in one sqlite file, for runs in one process at a time (its
 * directory is created when missing). Fails with `StoreError`, naming the
 * file, when it cannot be opened.
 *
 * @example
 * ```ts
 * import { Durable } from "effect-taskgraph/durable"
 * const store = Durable.layerSqlite("/var/lib/ci/runs.db")
 * ```
 *
 * @since 0.1.0
 * @category layers
 */
export const layerSqlite: (filename: string) => Layer.Layer<DurableStore, StoreError> =
  layerSqliteInternal

/**
 * A store on a PostgreSQL server (`postgres://user:password@host:port/db`;
 * its tables are created on first use). Fails with `StoreError`, naming the
 * server (password hidden), when it cannot connect within 5 seconds.
 *
 * @example
 * ```ts
 * import { Durable } from "effect-taskgraph/durable"
 * const store = Durable.layerPostgres("postgres://ci@127.0.0.1:5432/taskgraph")
 * ```
 *
 * @since 0.1.0
 * @category layers
 */
export const layerPostgres: (url: string) => Layer.Layer<DurableStore, StoreError> = layerPostgresInternal

/**
 * The store a string names: a `postgres://` (or `postgresql://`) URL, else
 * a sqlite file. What the command line's `--store` takes.
 *
 * @example
 * ```ts
 * import { Durable } from "effect-taskgraph/durable"
 * const store = Durable.layer(process.env.TASKGRAPH_STORE ?? Durable.defaultStore)
 * ```
 *
 * @since 0.1.0
 * @category layers
 */
export const layer: (store: string) => Layer.Layer<DurableStore, StoreError> = layerForInternal

/**
 * A durable run of a graph one of whose data edges has no schema: the value
 * could not be stored. Nothing ran.
 *
 * @example
 * ```ts
 * import { Durable } from "effect-taskgraph/durable"
 * const e = new Durable.NotDurableError({ task: "boot", tag: "Vm", usedBy: ["test"] })
 * e.message // task "boot" provides "Vm" to "test" but has no schema: ...
 * ```
 *
 * @since 0.1.0
 * @category errors
 */
export class NotDurableError extends Data.TaggedError("NotDurableError")<{
  readonly task: string
  readonly tag: string
  readonly usedBy: ReadonlyArray<string>
}> {
  override get message() {
    return `task "${this.task}" provides "${this.tag}" to ${this.usedBy.map((t) => `"${t}"`).join(", ")} ` +
      `but has no schema: a durable run stores what crosses between tasks. Give it one ` +
      `(Task.make("${this.task}", { provides: ${this.tag}, schema: ..., run })), or, if its value is a live ` +
      `resource, mark it resource: true (it then runs again with the tasks that use it on resume)`
  }
}

/**
 * The run id was first used with a graph of another shape (tasks, tags or
 * order differ): resuming it could mix results of two graphs. Nothing ran.
 *
 * @example
 * ```ts
 * import { Durable } from "effect-taskgraph/durable"
 * new Durable.GraphChangedError({ runId: "r1", graph: "ci", store: "/tmp/runs.db" }).message
 * ```
 *
 * @since 0.1.0
 * @category errors
 */
export class GraphChangedError extends Data.TaggedError("GraphChangedError")<{
  readonly runId: string
  readonly graph: string
  readonly store: string
}> {
  override get message() {
    return `run "${this.runId}" in ${this.store} was started with a graph of another shape than "${this.graph}" ` +
      `(tasks, their tags or their order changed): use a new run id for the changed graph`
  }
}

/**
 * Every way preparing a durable run can fail before anything runs.
 *
 * @example
 * ```ts
 * import type { Durable } from "effect-taskgraph/durable"
 *
 * const hint = (error: Durable.DurableError): string =>
 *   error._tag === "GraphChangedError" ? "the graph changed: start it under a new run id" : error.message
 * ```
 *
 * @since 0.1.0
 * @category errors
 */
export type DurableError = NotDurableError | GraphChangedError | StoreError

/**
 * What the store keeps of a run that succeeded.
 *
 * @example
 * ```ts
 * import { Schema } from "effect"
 * import { Durable } from "effect-taskgraph/durable"
 *
 * declare const json: string
 * const stored = Schema.decodeUnknownSync(Schema.parseJson(Durable.StoredRun))(json)
 * console.log(Durable.describe(stored))
 * ```
 *
 * @since 0.1.0
 * @category models
 */
export const StoredRun = Schema.Struct({
  graph: Schema.String,
  runId: Schema.String,
  finishedAt: Schema.Number,
  tasks: Schema.Array(Schema.Struct({
    name: Schema.String,
    /** the attempt (1 = first) whose outcome was kept */
    attempt: Schema.Number,
    /** its value came from the store, from an earlier process */
    restored: Schema.Boolean,
    durationMs: Schema.Number
  }))
})

/**
 * @example
 * ```ts
 * import { Durable } from "effect-taskgraph/durable"
 *
 * declare const stored: Durable.StoredRun
 * const restored = stored.tasks.filter((task) => task.restored).map((task) => task.name)
 * ```
 *
 * @since 0.1.0
 * @category models
 */
export interface StoredRun extends Schema.Schema.Type<typeof StoredRun> {}

/**
 * The options of a durable run: a run id, plus every option of
 * `TaskGraph.run`.
 *
 * @example
 * ```ts
 * import { Durable } from "effect-taskgraph/durable"
 * import type { TaskGraph } from "effect-taskgraph"
 *
 * declare const graph: TaskGraph.TaskGraph
 * const options: Durable.DurableOptions = { runId: "release-1.4.0" }
 * const report = Durable.run(graph, { ...options, concurrency: 4 })
 * ```
 *
 * @since 0.1.0
 * @category models
 */
export interface DurableOptions {
  /** the run's name in the store: the same id resumes, a new id starts afresh */
  readonly runId: string
}

/**
 * A prepared durable run: either it had already succeeded (nothing to run),
 * or a graph to run, whose tasks read from and write to the store.
 *
 * @example
 * ```ts
 * import { Effect } from "effect"
 * import { TaskGraph } from "effect-taskgraph"
 * import { Durable } from "effect-taskgraph/durable"
 *
 * declare const graph: TaskGraph.TaskGraph
 * const program = Effect.flatMap(Durable.prepare(graph, { runId: "nightly-42" }), (prepared: Durable.Prepared<never, never, never>) =>
 *   prepared._tag === "Finished"
 *     ? Effect.log(Durable.describe(prepared.stored))
 *     : Effect.ensuring(TaskGraph.run(prepared.graph), prepared.close))
 * ```
 *
 * @since 0.1.0
 * @category models
 */
export type Prepared<E, R, P> =
  | { readonly _tag: "Finished"; readonly stored: StoredRun }
  | { readonly _tag: "Ready"; readonly graph: TaskGraph.TaskGraph<E, R, P>; readonly close: Effect.Effect<void> }

/**
 * The shape of a graph as a hex digest: its name, every task's name, the tag
 * it provides, the tags it requires, what it runs after, whether it is a
 * resource, the encoded form of its `schema` and `errorSchema` (what the
 * store holds), and the graph's precedences. Code changes inside a task's
 * `run` are not part of it.
 *
 * @example
 * ```ts
 * import { Effect } from "effect"
 * import { Task, TaskGraph } from "effect-taskgraph"
 * import { Durable } from "effect-taskgraph/durable"
 * Durable.fingerprint(TaskGraph.make("g", [Task.make("a", { run: Effect.void })])) // "3f1c…"
 * ```
 *
 * @since 0.1.0
 * @category utils
 */
export const fingerprint = (graph: TaskGraph.TaskGraph.Any): string =>
  createHash("sha256").update(JSON.stringify({
    graph: graph.name,
    tasks: graph.tasks.map((t) => [
      t.name,
      t.provides.map((tag) => tag.key),
      t.requires.map((r) => r.key),
      t.after.map((a) => a.name),
      t.resource,
      // what is stored: the encoded side of its schemas, so that a changed schema is a changed graph
      // (its stored values would no longer decode) and not a run id that fails to resume forever
      t.schema === undefined ? 0 : String(Schema.encodedSchema(t.schema).ast),
      t.errorSchema === undefined ? 0 : String(Schema.encodedSchema(t.errorSchema).ast)
    ]),
    precedences: graph.precedences.map(([a, b]) => [a.name, b.name])
  })).digest("hex")

// ---- groups ---------------------------------------------------------------------------

/** Resource groups: a resource task plus every task that uses a member's value, transitively. */
const groupsOf = (graph: TaskGraph.TaskGraph.Any, plan: TaskGraph.Plan): Map<string, ReadonlyArray<string>> => {
  const byName = new Map(graph.tasks.map((t) => [t.name, t]))
  const parent = new Map<string, string>()
  const find = (n: string): string => {
    const p = parent.get(n)
    if (p === undefined || p === n) return n
    const root = find(p)
    parent.set(n, root)
    return root
  }
  const inGroup = new Set<string>()
  for (const t of graph.tasks) if (t.resource) inGroup.add(t.name)
  // a consumer of a group member joins the group; repeat until nothing changes (edges are few)
  let changed = true
  while (changed) {
    changed = false
    for (const edge of plan.dependencies) {
      if (!inGroup.has(edge.from)) continue
      if (!inGroup.has(edge.to)) {
        inGroup.add(edge.to)
        changed = true
      }
      const a = find(edge.from), b = find(edge.to)
      if (a !== b) {
        parent.set(b, a)
        changed = true
      }
    }
  }
  const groups = new Map<string, Array<string>>()
  for (const name of inGroup) {
    if (!byName.has(name)) continue
    const root = find(name)
    const members = groups.get(root) ?? []
    members.push(name)
    groups.set(root, members)
  }
  const byMember = new Map<string, ReadonlyArray<string>>()
  for (const members of groups.values()) for (const m of members) byMember.set(m, members)
  return byMember
}

const check = (graph: TaskGraph.TaskGraph.Any, plan: TaskGraph.Plan, groups: Map<string, ReadonlyArray<string>>) => {
  const byName = new Map(graph.tasks.map((t) => [t.name, t]))
  const missing = new Map<string, { tag: string; usedBy: Array<string> }>()
  for (const edge of plan.dependencies) {
    const from = byName.get(edge.from)!
    if (from.schema !== undefined || groups.has(edge.from)) continue
    const entry = missing.get(edge.from) ?? { tag: edge.tag, usedBy: [] }
    entry.usedBy.push(edge.to)
    missing.set(edge.from, entry)
  }
  for (const [task, { tag, usedBy }] of missing) return Effect.fail(new NotDurableError({ task, tag, usedBy }))
  return Effect.void
}

// ---- the durable graph ------------------------------------------------------------------

const successOf = (task: Task.Task.Any): Schema.Schema<unknown, unknown> =>
  (task.schema ?? Schema.Undefined) as Schema.Schema<unknown, unknown>
const errorOf = (task: Task.Task.Any): Schema.Schema<unknown, unknown> =>
  (task.errorSchema ?? Schema.Never) as Schema.Schema<unknown, unknown>

interface RunContext {
  readonly run: RunStore
  readonly total: number
  readonly finished: Map<string, StoredRun["tasks"][number]>
  readonly report: Extract<Lookup<StoredRun, never>, { _tag: "Open" }>
  /** attempts opened and not completed yet, each with how to close it as "did not run" */
  readonly open: Map<unknown, Effect.Effect<void>>
  readonly graph: string
}

const stepName = (task: string) => `task/${task}`

const didNotRun: Exit.Exit<never, never> = Exit.die(new Error("did not run"))

/** A task succeeded: when it is the last one, the run's summary is stored. */
const finished = (ctx: RunContext, entry: StoredRun["tasks"][number]) =>
  Effect.suspend(() => {
    ctx.finished.set(entry.name, entry)
    if (ctx.finished.size !== ctx.total) return Effect.void
    return Effect.flatMap(Effect.clockWith((c) => c.currentTimeMillis), (now) => {
      ctx.open.delete(ctx.report)
      return ctx.report.complete(Exit.succeed({
        graph: ctx.graph,
        runId: ctx.run.runId,
        finishedAt: now,
        tasks: [...ctx.finished.values()]
      }))
    })
  })

/** Runs the task, storing its outcome in the open attempt (if any). */
const runAndStore = (ctx: RunContext, task: Task.Task.Any, open: Lookup<unknown, unknown> | undefined) =>
  Effect.gen(function*() {
    const started = yield* Effect.clockWith((c) => c.currentTimeMillis)
    const attempt = open === undefined ? 0 : open.attempt
    const complete = open !== undefined && open._tag === "Open" ? open.complete : undefined
    if (complete !== undefined) ctx.open.set(complete, complete(didNotRun))
    const value = yield* task.run.pipe(
      Effect.onExit((exit) => {
        if (complete === undefined) return Effect.void
        ctx.open.delete(complete)
        // a value without a schema is not stored (nothing outside its group uses it)
        return complete(task.schema === undefined ? Exit.map(exit, () => undefined) : exit)
      })
    )
    const now = yield* Effect.clockWith((c) => c.currentTimeMillis)
    yield* finished(ctx, { name: task.name, attempt, restored: false, durationMs: now - started })
    return value
  })

const restored = (ctx: RunContext, task: Task.Task.Any, attempt: number) =>
  Effect.zipRight(
    Task.output(`restored from ${ctx.run.location} (run ${ctx.run.runId}, attempt ${attempt}): not run again`, "log"),
    // with spans on, the task's span says its body did not run (a no-op without a span)
    Effect.zipRight(
      Effect.annotateCurrentSpan({ "taskgraph.restored": true, "taskgraph.restored.attempt": attempt }),
      finished(ctx, { name: task.name, attempt, restored: true, durationMs: 0 })
    )
  )

const plainRun = (ctx: RunContext, task: Task.Task.Any) =>
  Effect.gen(function*() {
    const found = yield* ctx.run.lookup(stepName(task.name), successOf(task), errorOf(task))
    if (found._tag === "Stored") {
      yield* restored(ctx, task, found.attempt)
      return found.value
    }
    return yield* runAndStore(ctx, task, found)
  })

type GroupDecision =
  | { readonly _tag: "Restore"; readonly found: ReadonlyMap<string, Lookup<unknown, unknown>> }
  | { readonly _tag: "Rerun"; readonly found: ReadonlyMap<string, Lookup<unknown, unknown>> }

const groupRun = (
  ctx: RunContext,
  task: Task.Task.Any,
  decide: Effect.Effect<GroupDecision>
) =>
  Effect.gen(function*() {
    const decision = yield* decide
    const found = decision.found.get(task.name)!
    if (decision._tag === "Restore" && found._tag === "Stored") {
      yield* restored(ctx, task, found.attempt)
      // a resource's stored value is `undefined`: every task that would use it is restored too
      return found.value
    }
    if (found._tag === "Stored") {
      yield* Task.output(`its resource group runs again: running again (the first stored value stays)`, "log")
      return yield* runAndStore(ctx, task, undefined)
    }
    return yield* runAndStore(ctx, task, found)
  })

const durableGraph = <E, R, P>(
  graph: TaskGraph.TaskGraph<E, R, P>,
  ctx: RunContext,
  groups: Map<string, ReadonlyArray<string>>
): Effect.Effect<TaskGraph.TaskGraph<E, R, P>> =>
  Effect.gen(function*() {
    const byName = new Map(graph.tasks.map((t) => [t.name, t]))
    const decisions = new Map<ReadonlyArray<string>, Effect.Effect<GroupDecision>>()
    for (const members of new Set(groups.values())) {
      const decide = Effect.gen(function*() {
        const found = new Map<string, Lookup<unknown, unknown>>()
        const lookups = yield* Effect.forEach(members, (name) => {
          const t = byName.get(name)!
          return ctx.run.lookup(stepName(name), successOf(t), errorOf(t))
        }, { concurrency: "unbounded" })
        members.forEach((name, i) => found.set(name, lookups[i]!))
        for (const l of lookups) if (l._tag === "Open") ctx.open.set(l.complete, l.complete(didNotRun))
        const all = lookups.every((l) => l._tag === "Stored")
        return all ? { _tag: "Restore", found } as const : { _tag: "Rerun", found } as const
      })
      decisions.set(members, yield* Effect.cached(decide))
    }
    return withRuns(graph, (task) => {
      const members = groups.get(task.name)
      return members === undefined ? plainRun(ctx, task) : groupRun(ctx, task, decisions.get(members)!)
    })
  })

/**
 * Opens a durable run without running it: checks the graph (validity,
 * schemas on data edges), refuses a run id first used with a graph of
 * another shape, and returns either the stored summary of a run that had
 * already succeeded, or the graph to run (with any runner, e.g.
 * `TaskGraph.run` or `Main.run`), whose tasks restore and store their
 * outcomes. Run `close` once that run is over.
 *
 * @example
 * ```ts
 * import { Effect } from "effect"
 * import { Task, TaskGraph } from "effect-taskgraph"
 * import { Durable } from "effect-taskgraph/durable"
 *
 * const graph = TaskGraph.make("g", [Task.make("a", { run: Effect.void })])
 * const program = Effect.gen(function* () {
 *   const prepared = yield* Durable.prepare(graph, { runId: "r1" })
 *   if (prepared._tag === "Finished") return yield* Effect.log("already done")
 *   yield* TaskGraph.run(prepared.graph).pipe(Effect.ensuring(prepared.close))
 * }).pipe(Effect.provide(Durable.layerSqlite("runs.db")))
 * ```
 *
 * @since 0.1.0
 * @category running
 */
export const prepare = <E, R, P>(
  graph: TaskGraph.TaskGraph<E, R, P>,
  options: DurableOptions
): Effect.Effect<Prepared<E, R, P>, GraphError.GraphError | NotDurableError | GraphChangedError, DurableStore> =>
  Effect.gen(function*() {
    const plan = yield* TaskGraph.validate(graph)
    const groups = groupsOf(graph, plan)
    yield* check(graph, plan, groups)
    const store = yield* DurableStore
    const run = yield* openRun(store, options.runId)
    const shape = fingerprint(graph)
    const stored = yield* run.lookup("run/graph", Schema.String, Schema.Never)
    if (stored._tag === "Stored" && stored.value !== shape) {
      return yield* new GraphChangedError({ runId: options.runId, graph: graph.name, store: store.location })
    }
    if (stored._tag === "Open") yield* stored.complete(Exit.succeed(shape))
    const report = yield* run.lookup("run/report", StoredRun, Schema.Never)
    if (report._tag === "Stored") return { _tag: "Finished", stored: report.value } as const
    const ctx: RunContext = {
      run,
      total: graph.tasks.length,
      finished: new Map(),
      report: report as RunContext["report"],
      open: new Map([[report, report.complete(didNotRun)]]),
      graph: graph.name
    }
    const durable = yield* durableGraph(graph, ctx, groups)
    // what never ran is closed as "did not run", so no open attempt outlives the run
    const close = Effect.suspend(() => {
      const open = [...ctx.open.values()]
      ctx.open.clear()
      return Effect.all(open, { discard: true, concurrency: "unbounded" })
    })
    return { _tag: "Ready", graph: durable, close } as const
  })

const reportOf = (stored: StoredRun): RunReport.RunReport => printsAsFields({
  graph: stored.graph,
  status: "succeeded",
  startedAt: stored.finishedAt,
  finishedAt: Option.some(stored.finishedAt),
  durationMs: Option.some(0),
  tasks: stored.tasks.map((t) => ({
    name: t.name,
    status: "released",
    attempts: t.attempt,
    startedAt: Option.none(),
    readyAt: Option.none(),
    releasedAt: Option.none(),
    endedAt: Option.none(),
    durationMs: Option.some(t.durationMs),
    value: Option.none(),
    cause: Option.none(),
    blockedBy: Option.none(),
    stoppedBy: Option.none(),
    waitedFor: [],
    provides: [],
    group: Option.none()
  })),
  criticalPath: [],
  failed: [],
  dependencies: [],
  precedences: [],
  groups: []
})

/**
 * Runs a graph durably (`prepare`, then `TaskGraph.run`): a task that had
 * succeeded under this run id is not run again; its value comes from the
 * store. For a run that had already succeeded, nothing runs and the report
 * is rebuilt from the store.
 *
 * @example
 * ```ts
 * import { Effect } from "effect"
 * import { Task, TaskGraph } from "effect-taskgraph"
 * import { Durable } from "effect-taskgraph/durable"
 *
 * const graph = TaskGraph.make("g", [Task.make("a", { run: Effect.log("once") })])
 * const program = Durable.run(graph, { runId: "r1", concurrency: 4 }).pipe(
 *   Effect.provide(Durable.layerSqlite(".taskgraph/runs.db"))
 * )
 * // or data-last: graph.pipe(Durable.run({ runId: "r1" }))
 * ```
 *
 * @since 0.1.0
 * @category running
 */
export const run: {
  (options: DurableOptions & TaskGraph.RunOptions): <E, R, P>(
    graph: TaskGraph.TaskGraph<E, R, P>
  ) => Effect.Effect<RunReport.RunReport, TaskGraph.TaskGraphError<E> | NotDurableError | GraphChangedError, R | DurableStore>
  <E, R, P>(
    graph: TaskGraph.TaskGraph<E, R, P>,
    options: DurableOptions & TaskGraph.RunOptions
  ): Effect.Effect<RunReport.RunReport, TaskGraph.TaskGraphError<E> | NotDurableError | GraphChangedError, R | DurableStore>
} = dual(2, <E, R, P>(
  graph: TaskGraph.TaskGraph<E, R, P>,
  options: DurableOptions & TaskGraph.RunOptions
): Effect.Effect<RunReport.RunReport, TaskGraph.TaskGraphError<E> | NotDurableError | GraphChangedError, R | DurableStore> =>
  Effect.flatMap(prepare(graph, options), (prepared) =>
    prepared._tag === "Finished"
      ? Effect.succeed(reportOf(prepared.stored))
      : Effect.ensuring(TaskGraph.run(prepared.graph, options), prepared.close)))

/**
 * The summary of a stored run, one line per task, for a run that had
 * already succeeded.
 *
 * @example
 * ```ts
 * import { Durable } from "effect-taskgraph/durable"
 * declare const stored: Durable.StoredRun
 * console.log(Durable.describe(stored))
 * ```
 *
 * @since 0.1.0
 * @category utils
 */
export const describe = (stored: StoredRun): string => {
  const width = Math.min(48, Math.max(4, ...stored.tasks.map((t) => t.name.length)))
  const lines = [`run "${stored.runId}" of "${stored.graph}" already succeeded at ${new Date(stored.finishedAt).toISOString()}: nothing to run`]
  for (const t of stored.tasks) {
    lines.push(`  ${t.name.padEnd(width)}  ${t.restored ? "restored" : `ran (attempt ${t.attempt})`}`)
  }
  return lines.join("\n")
}


/**
 * Options of `runMain`: those of `Main.runMain`, a run id and the store.
 *
 * @example
 * ```ts
 * import type { TaskGraph } from "effect-taskgraph"
 * import { Durable } from "effect-taskgraph/durable"
 *
 * declare const graph: TaskGraph.TaskGraph
 * const options: Durable.MainOptions = { runId: "nightly-42", store: ".taskgraph/runs.db", reporter: "plain" }
 * Durable.runMain(graph, options)
 * ```
 *
 * @since 0.1.0
 * @category models
 */
export interface MainOptions<ROut = never, LE = never> extends Main.MainOptions<ROut, LE>, DurableOptions {
  /** the store: a sqlite file (default `defaultStore`, in the working directory) or a `postgres://` URL */
  readonly store?: string | undefined
}

/**
 * The entry point of a script that runs a graph durably: opens the store,
 * prepares the run (nothing runs if the store cannot be opened, the graph is
 * not durable or changed), prints the stored summary and exits 0 for a run
 * that had already succeeded, else runs it like `Main.runMain` (reporters,
 * signals, exit codes).
 *
 * @example
 * ```ts
 * import { Effect } from "effect"
 * import { Task, TaskGraph } from "effect-taskgraph"
 * import { Durable } from "effect-taskgraph/durable"
 *
 * const graph = TaskGraph.make("g", [Task.make("a", { run: Effect.log("once") })])
 * Durable.runMain(graph, { runId: "r1", store: ".taskgraph/runs.db" })
 * ```
 *
 * @since 0.1.0
 * @category running
 */
export const runMain = <E, R, P, ROut = never, LE = never>(
  graph: TaskGraph.TaskGraph<E, R, P> & Main.CheckProvided<R, ROut>,
  options: MainOptions<ROut, LE>
): void => {
  // the store lives as long as the process: `Main.runMain` exits it when the run is over
  const scope = Effect.runSync(Scope.make())
  const store = options.store ?? defaultStore
  const program = Effect.flatMap(
    Layer.buildWithScope(layer(store), scope),
    (context) => Effect.provide(prepare(graph as TaskGraph.TaskGraph<E, R, P>, options), context)
  )
  Effect.runPromiseExit(program).then((exit) => {
    if (Exit.isSuccess(exit)) {
      const prepared = exit.value
      if (prepared._tag === "Finished") {
        process.stdout.write(`${describe(prepared.stored)}\n`)
        return process.exit(Main.ExitCode.Succeeded)
      }
      return Main.runMain(prepared.graph as TaskGraph.TaskGraph<E, R, P> & Main.CheckProvided<R, ROut>, options)
    }
    const failure = Cause.failureOption(exit.cause)
    process.stderr.write(`error: ${Option.isSome(failure) ? failure.value.message : prettyCause(exit.cause)}\n`)
    process.exit(Main.ExitCode.Failed)
  })
}

// ---- across processes ---------------------------------------------------------------------

/**
 * Why a remote run cannot start: the store is not PostgreSQL or cannot be
 * opened, or nobody runs tasks. Nothing ran.
 *
 * @example
 * ```ts
 * import { Durable } from "effect-taskgraph/durable"
 * new Durable.RemoteError({ message: "no runner is up in postgres://…" }).message
 * ```
 *
 * @since 0.1.0
 * @category errors
 */
export class RemoteError extends Data.TaggedError("RemoteError")<{ readonly message: string }> {}

/**
 * This process as a client-only member of a cluster (it submits runs and
 * reads their results, runs no task), provided by `layerClient`.
 *
 * @example
 * ```ts
 * import { Effect } from "effect"
 * import { Durable } from "effect-taskgraph/durable"
 * const where = Effect.map(Durable.Client, (client) => client.location)
 * ```
 *
 * @since 0.1.0
 * @category services
 */
export class Client extends Context.Tag("effect-taskgraph/durable/Client")<Client, {
  /** the store, as messages name it (password hidden) */
  readonly location: string
  readonly store: string
  readonly context: Context.Context<WorkflowEngine.WorkflowEngine | RunnerStorage.RunnerStorage>
}>() {}

/**
 * Joins the cluster on a PostgreSQL store (`postgres://…`) as a client
 * only, with the sharding settings of every runner. Fails with
 * `RemoteError`, naming the store, when it is not PostgreSQL or cannot be
 * opened.
 *
 * @example
 * ```ts
 * import { Durable } from "effect-taskgraph/durable"
 * const client = Durable.layerClient("postgres://ci@127.0.0.1:5432/taskgraph")
 * ```
 *
 * @since 0.1.0
 * @category layers
 */
export const layerClient = (store: string): Layer.Layer<Client, RemoteError> =>
  isPostgres(store)
    ? Layer.effect(
      Client,
      Effect.map(Effect.context<WorkflowEngine.WorkflowEngine | RunnerStorage.RunnerStorage>(), (context) => ({
        location: redact(store),
        store,
        context
      }))
    ).pipe(
      Layer.provide(layerClusterClient(store)),
      Layer.mapError((e) => new RemoteError({ message: e.message }))
    )
    : Layer.fail(new RemoteError({ message: `a remote run needs a PostgreSQL store (--store postgres://…), not ${store}` }))

/**
 * Options of a remote run: a run id, and how long to wait for a runner.
 *
 * @example
 * ```ts
 * import type { TaskGraph } from "effect-taskgraph"
 * import { Durable } from "effect-taskgraph/durable"
 *
 * declare const graph: TaskGraph.TaskGraph
 * const options: Durable.RemoteOptions = { runId: "nightly-42", waitForRunners: "1 minute" }
 * const report = Durable.runRemote(graph, options)
 * ```
 *
 * @since 0.1.0
 * @category models
 */
export interface RemoteOptions extends DurableOptions {
  /** how long to wait for a runner to be up before giving up (default 15 seconds) */
  readonly waitForRunners?: Duration.DurationInput | undefined
}

/**
 * Prepares a remote run without running it: checks the graph (validity,
 * schemas on data edges), waits for a runner, refuses a
 * run id first started with a graph of another shape, and returns the graph
 * to run with any runner (`TaskGraph.run`, `Main.run`) in this process:
 * each task's body runs on the runner that owns its shard, and its output
 * says which runner ran it (and whether it ran again because the runner
 * that had started it died). A task that had succeeded under this run id
 * is restored, not run again.
 *
 * @example
 * ```ts
 * import { Effect } from "effect"
 * import { Task, TaskGraph } from "effect-taskgraph"
 * import { Durable } from "effect-taskgraph/durable"
 *
 * const graph = TaskGraph.make("g", [Task.make("a", { run: Effect.log("on a runner") })])
 * const program = Durable.prepareRemote(graph, { runId: "r1" }).pipe(
 *   Effect.flatMap((remote) => TaskGraph.run(remote)),
 *   Effect.provide(Durable.layerClient("postgres://ci@127.0.0.1:5432/taskgraph"))
 * )
 * ```
 *
 * @since 0.1.0
 * @category running
 */
export const prepareRemote = <E, R, P>(
  graph: TaskGraph.TaskGraph<E, R, P>,
  options: RemoteOptions
): Effect.Effect<
  TaskGraph.TaskGraph<E, R, P>,
  GraphError.GraphError | NotDurableError | GraphChangedError | RemoteError,
  Client
> =>
  Effect.gen(function*() {
    const plan = yield* TaskGraph.validate(graph)
    const groups = groupsOf(graph, plan)
    yield* check(graph, plan, groups)
    const client = yield* Client
    const shape = fingerprint(graph)
    const stored = yield* Effect.provide(
      Effect.zipRight(
        awaitRunners(client.store, options.waitForRunners ?? "15 seconds"),
        startRun(client.store, { graph: graph.name, runId: options.runId, fingerprint: shape }, "60 seconds")
      ),
      client.context
    ).pipe(Effect.mapError((e) => new RemoteError({ message: e.message })))
    if (stored !== shape) {
      return yield* new GraphChangedError({ runId: options.runId, graph: graph.name, store: client.location })
    }
    return remoteGraph(graph, { runId: options.runId, fingerprint: shape, location: client.location, engine: client.context, groups })
  })

/**
 * Runs a graph on the runners of a cluster (`prepareRemote`, then
 * `TaskGraph.run` in this process).
 *
 * @example
 * ```ts
 * import { Effect } from "effect"
 * import { Task, TaskGraph } from "effect-taskgraph"
 * import { Durable } from "effect-taskgraph/durable"
 *
 * const graph = TaskGraph.make("g", [Task.make("a", { run: Effect.log("on a runner") })])
 * const program = Durable.runRemote(graph, { runId: "r1", concurrency: 8 }).pipe(
 *   Effect.provide(Durable.layerClient("postgres://ci@127.0.0.1:5432/taskgraph"))
 * )
 * ```
 *
 * @since 0.1.0
 * @category running
 */
export const runRemote = <E, R, P>(
  graph: TaskGraph.TaskGraph<E, R, P>,
  options: RemoteOptions & TaskGraph.RunOptions
): Effect.Effect<
  RunReport.RunReport,
  TaskGraph.TaskGraphError<E> | NotDurableError | GraphChangedError | RemoteError,
  R | Client
> => Effect.flatMap(prepareRemote(graph, options), (remote) => TaskGraph.run(remote, options))

/**
 * Options of `runRemoteMain`: those of `Main.runMain`, a run id, the
 * store (a `postgres://` URL) and how long to wait for a runner.
 *
 * @example
 * ```ts
 * import type { TaskGraph } from "effect-taskgraph"
 * import { Durable } from "effect-taskgraph/durable"
 *
 * declare const graph: TaskGraph.TaskGraph
 * const options: Durable.RemoteMainOptions = { runId: "nightly-42", store: "postgres://ci@127.0.0.1:5432/taskgraph" }
 * Durable.runRemoteMain(graph, options)
 * ```
 *
 * @since 0.1.0
 * @category models
 */
export interface RemoteMainOptions<ROut = never, LE = never> extends Main.MainOptions<ROut, LE>, RemoteOptions {
  readonly store: string
}

const fail = (message: string, code: number = Main.ExitCode.Failed): never => {
  process.stderr.write(`error: ${message}\n`)
  return process.exit(code)
}

/**
 * Submits a durable run to the runners of a cluster on a PostgreSQL store
 * and follows it like `Main.runMain` (the same reporters and exit codes):
 * this process runs the scheduler and joins the cluster as a client only;
 * each task's body runs on the runner that owns its shard (`runnerMain`).
 * The same run id again resumes the run: a task that had succeeded is not
 * run again. The runner's output lines of a task come back with its result
 * (they are not live).
 *
 * @example
 * ```ts
 * import { Effect } from "effect"
 * import { Task, TaskGraph } from "effect-taskgraph"
 * import { Durable } from "effect-taskgraph/durable"
 *
 * const graph = TaskGraph.make("g", [Task.make("a", { run: Effect.log("on a runner") })])
 * Durable.runRemoteMain(graph, { runId: "r1", store: "postgres://ci@127.0.0.1:5432/taskgraph" })
 * ```
 *
 * @since 0.1.0
 * @category running
 */
export const runRemoteMain = <E, R, P, ROut = never, LE = never>(
  graph: TaskGraph.TaskGraph<E, R, P> & Main.CheckProvided<R, ROut>,
  options: RemoteMainOptions<ROut, LE>
): void => {
  if (!isPostgres(options.store)) {
    return fail(`a remote run needs a PostgreSQL store (--store postgres://…), not ${options.store}`, Main.ExitCode.Usage)
  }
  // the client lives as long as the process: `Main.runMain` exits it when the run is over
  const scope = Effect.runSync(Scope.make())
  const program = Effect.flatMap(
    Layer.buildWithScope(layerClient(options.store), scope),
    (context) => Effect.provide(prepareRemote(graph as TaskGraph.TaskGraph<E, R, P>, options), context)
  )
  Effect.runPromiseExit(program).then((exit) => {
    if (Exit.isSuccess(exit)) {
      return Main.runMain(exit.value as TaskGraph.TaskGraph<E, R, P> & Main.CheckProvided<R, ROut>, options)
    }
    const failure = Cause.failureOption(exit.cause)
    return fail(Option.isSome(failure) ? failure.value.message : prettyCause(exit.cause))
  })
}

/**
 * Options of `runnerMain`.
 *
 * @example
 * ```ts
 * import type { TaskGraph } from "effect-taskgraph"
 * import { Durable } from "effect-taskgraph/durable"
 *
 * declare const graph: TaskGraph.TaskGraph
 * const options: Durable.RunnerOptions = { store: "postgres://ci@127.0.0.1:5432/taskgraph", listen: "10.0.0.5:34431" }
 * Durable.runnerMain([graph], options)
 * ```
 *
 * @since 0.1.0
 * @category models
 */
export interface RunnerOptions {
  /** the cluster's store: a `postgres://` URL */
  readonly store: string
  /** `HOST:PORT` this runner listens on, and where the others reach it */
  readonly listen: string
}

/**
 * The entry point of a runner process: joins the cluster on a PostgreSQL
 * store, listens on `HOST:PORT`, and runs the tasks of remote runs of these
 * graphs (submitted with `runRemoteMain` or `effect-taskgraph run FILE
 * --remote`) until SIGINT or SIGTERM. Every runner and submitter must have
 * the same graphs: a task of a run started with a graph of another shape is
 * refused. Prints one `runner … ready` line once it has joined.
 *
 * @example
 * ```ts
 * import { Effect } from "effect"
 * import { Task, TaskGraph } from "effect-taskgraph"
 * import { Durable } from "effect-taskgraph/durable"
 *
 * const graph = TaskGraph.make("g", [Task.make("a", { run: Effect.log("on a runner") })])
 * Durable.runnerMain([graph], { store: "postgres://ci@127.0.0.1:5432/taskgraph", listen: "127.0.0.1:7001" })
 * ```
 *
 * @since 0.1.0
 * @category running
 */
export const runnerMain = (graphs: ReadonlyArray<TaskGraph.TaskGraph.Any>, options: RunnerOptions): void => {
  if (!isPostgres(options.store)) {
    return fail(`a runner needs a PostgreSQL store (--store postgres://…), not ${options.store}`, Main.ExitCode.Usage)
  }
  const address = parseAddress(options.listen)
  if (Option.isNone(address)) return fail(`--listen must be HOST:PORT, not ${options.listen}`, Main.ExitCode.Usage)
  const identity = `${options.listen}/pid ${process.pid}`
  const program = Effect.scoped(Effect.gen(function*() {
    yield* Layer.build(layerRunner({ graphs, fingerprint, store: options.store, address: address.value, identity }))
    yield* Console.log(
      `runner ${identity} ready on ${redact(options.store)}: ${graphs.map((g) => `"${g.name}"`).join(", ")}`
    )
    return yield* Effect.never
  }))
  NodeRuntime.runMain(Effect.catchTag(program, "ClusterError", (e) => Effect.sync(() => fail(e.message))), {
    disableErrorReporting: true
  })
}
