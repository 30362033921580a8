/**
 * Runs across processes: `@effect/cluster` runners on a PostgreSQL store and
 * a client-only submitter, both over `ClusterWorkflowEngine`.
 *
 * The submitter runs today's scheduler; each task's body is the execution of
 * a child workflow `TaskWorkflow` whose execution id comes from the graph,
 * the run id, the task and its attempt, so its shard (hence its runner)
 * differs from task to task. The payload carries the task's inputs encoded
 * with their providers' schemas; the runner that owns the shard decodes them,
 * runs the task's body and returns its value encoded.
 * Everything durable (which tasks finished, on which runner, who started a
 * task before dying) is workflow state in the cluster's own storage.
 *
 * @internal
 */
import * as ClusterWorkflowEngine from "@effect/cluster/ClusterWorkflowEngine"
import * as RunnerAddress from "@effect/cluster/RunnerAddress"
import * as RunnerStorage from "@effect/cluster/RunnerStorage"
import * as ShardingConfig from "@effect/cluster/ShardingConfig"
import * as SqlRunnerStorage from "@effect/cluster/SqlRunnerStorage"
import * as NodeClusterSocket from "@effect/platform-node/NodeClusterSocket"
import * as NodeContext from "@effect/platform-node/NodeContext"
import type * as SocketServer from "@effect/platform/SocketServer"
import * as Activity from "@effect/workflow/Activity"
import * as Workflow from "@effect/workflow/Workflow"
import type * as WorkflowEngine from "@effect/workflow/WorkflowEngine"
import type { LogLevel as LogLevelValue, Scope } from "effect"
import { Cause, Chunk, Context, Data, Duration, Effect, Exit, FiberRef, HashSet, Layer, Option, Schedule, Schema, Stream } from "effect"
import type * as Task from "../Task.js"
import { LogLevel, OutputStream } from "../TaskEvent.js"
import * as TaskGraph from "../TaskGraph.js"
import { layerSchema, pgClient, quiet, redactUrl } from "./durableStore.js"
import { errorText, prettyCause } from "./errorText.js"
import { copyGraph } from "./graphRuns.js"
import { type TaskHooks, currentTaskHooks } from "./taskHooks.js"
import { eventLogger } from "./taskLogging.js"

/**
 * Sharding settings every process of a cluster uses (runners and
 * submitters: `shardsPerGroup` must be the same everywhere).
 *
 * The defaults (lock expiry 35 s, health checks every minute) make a
 * SIGKILLed runner's shards wait about a minute for a new owner. Here a
 * runner refreshes its shard locks every second and a lock expires 5 s
 * after its last refresh, so a dead runner's tasks start elsewhere after
 * ~5 s; unprocessed messages are polled every 500 ms (replies keep the
 * default 200 ms). The price: a runner that cannot
 * reach PostgreSQL for 5 s (a long GC pause, a network blip) loses its shards
 * and its running tasks may run twice; more queries on the store.
 */
export const shardingConfig = {
  shardsPerGroup: 300,
  shardLockRefreshInterval: "1 second",
  shardLockExpiration: "5 seconds",
  entityMessagePollInterval: "500 millis",
  refreshAssignmentsInterval: "1 second",
  runnerHealthCheckInterval: "5 seconds",
  entityTerminationTimeout: "1 second"
} as const satisfies Partial<ShardingConfig.ShardingConfig["Type"]>

/** A run's process could not join the cluster, or found nobody to run its tasks. */
export class ClusterError extends Data.TaggedError("ClusterError")<{ readonly message: string }> {}

// ---- the workflows ------------------------------------------------------------------

const Input = Schema.Struct({ tag: Schema.String, json: Schema.String })

const Line = Schema.Struct({
  stream: OutputStream,
  line: Schema.String,
  /** an `Effect.log` line's level */
  level: Schema.optional(LogLevel),
  /** in a resource group: the member that wrote it */
  task: Schema.optional(Schema.String)
})

const lineOf = (stream: OutputStream, line: string, level: LogLevel | undefined, task: string | undefined): typeof Line.Type => ({
  stream,
  line,
  ...(level === undefined ? {} : { level }),
  ...(task === undefined ? {} : { task })
})

/** What running a task's body gave, as the runner that ran it stores it. */
const Ran = Schema.Struct({
  /** the runner that ran the body (it may have died before the workflow finished) */
  ranOn: Schema.String,
  output: Schema.Array(Line),
  result: Schema.Union(
    Schema.TaggedStruct("Success", { json: Schema.optional(Schema.String) }),
    Schema.TaggedStruct("Failure", { error: Schema.optional(Schema.String), message: Schema.String })
  )
})
type Ran = typeof Ran.Type

/** A task's outcome: what ran, where, and who had started it before dying. */
export const Outcome = Schema.Struct({
  ...Ran.fields,
  /** the runner that finished the workflow */
  runner: Schema.String,
  /** runners that had started the task and died before it finished (its body ran again) */
  died: Schema.Array(Schema.String)
})
export type Outcome = typeof Outcome.Type

export const TaskWorkflow = Workflow.make({
  name: "effect-taskgraph/task",
  payload: {
    graph: Schema.String,
    runId: Schema.String,
    task: Schema.String,
    attempt: Schema.Number,
    fingerprint: Schema.String,
    inputs: Schema.Array(Input),
    /** a resource group: its members (`task` is its first), run as one sub-graph */
    group: Schema.optional(Schema.Array(Schema.String))
  },
  success: Outcome,
  idempotencyKey: ({ attempt, graph, runId, task }) => JSON.stringify([graph, runId, task, attempt])
})
export type TaskPayload = typeof TaskWorkflow.payloadSchema.Type

/** A remote run: its first execution stores the fingerprint of the graph it was started with. */
export const RunWorkflow = Workflow.make({
  name: "effect-taskgraph/remote-run",
  payload: { graph: Schema.String, runId: Schema.String, fingerprint: Schema.String },
  success: Schema.String,
  idempotencyKey: ({ graph, runId }) => JSON.stringify([graph, runId])
})

// ---- encoding values ----------------------------------------------------------------

const schemaOf = (task: Task.Task.Any): Schema.Schema<unknown, unknown> =>
  (task.schema ?? Schema.Undefined) as Schema.Schema<unknown, unknown>

export const encodeJson = (schema: Schema.Schema<unknown, unknown>, value: unknown): Effect.Effect<string | undefined> =>
  Effect.map(Effect.orDie(Schema.encode(schema)(value)), (encoded) => encoded === undefined ? undefined : JSON.stringify(encoded))

export const decodeJson = (schema: Schema.Schema<unknown, unknown>, json: string | undefined): Effect.Effect<unknown> =>
  Effect.orDie(Schema.decodeUnknown(schema)(json === undefined ? undefined : JSON.parse(json)))

/** The task providing each tag, to encode and decode what crosses to a runner with its schema. */
export const providers = (graph: TaskGraph.TaskGraph.Any): Map<string, Task.Task.Any> => {
  const byTag = new Map<string, Task.Task.Any>()
  for (const t of graph.tasks) for (const tag of t.provides) byTag.set(tag.key, t)
  return byTag
}

// ---- the runner's side --------------------------------------------------------------

/** Runs one task's body on this runner: decode the inputs, run, encode the value (or the failure). */
const runBody = (
  graphs: ReadonlyMap<string, { readonly graph: TaskGraph.TaskGraph.Any; readonly fingerprint: string }>,
  me: string,
  services: Context.Context<never>,
  payload: TaskPayload
): Effect.Effect<Ran> =>
  Effect.gen(function*() {
    const refuse = (message: string) => ({ ranOn: me, output: [], result: { _tag: "Failure", message } } as const)
    const loaded = graphs.get(payload.graph)
    if (loaded === undefined) {
      return refuse(`runner ${me} has no graph "${payload.graph}" (it runs ${[...graphs.keys()].map((g) => `"${g}"`).join(", ")}): start every runner with the same FILE`)
    }
    if (loaded.fingerprint !== payload.fingerprint) {
      return refuse(`runner ${me} has graph "${payload.graph}" of another shape than the run was started with (tasks, their tags or their order differ): start every runner with the same FILE as the run`)
    }
    const task = loaded.graph.tasks.find((t) => t.name === payload.task)
    if (task === undefined) return refuse(`runner ${me}: graph "${payload.graph}" has no task "${payload.task}"`)
    const byTag = providers(loaded.graph)
    let context = services
    for (const input of payload.inputs) {
      const provider = byTag.get(input.tag)!
      const tag = provider.provides.find((t) => t.key === input.tag)!
      // the decoded value of a tag of the runner's own copy of the graph: what the task's body asks for
      context = Context.add(context, tag, yield* decodeJson(schemaOf(provider), input.json)) as Context.Context<never>
    }
    if (payload.group !== undefined) return yield* runGroup(loaded.graph, me, context, payload.group)
    const output: Array<typeof Line.Type> = []
    let watcher: Cause.Cause<unknown> | undefined
    const hooks: TaskHooks = {
      name: task.name,
      output: (stream, line, level) => void output.push(lineOf(stream, line, level, undefined)),
      watcherFailed: (cause) => void (watcher ??= cause)
    }
    // the task's own requirements are in `context`; its other services are the runner's business
    const body = task.run as Effect.Effect<unknown, unknown, Scope.Scope>
    const exit = yield* body.pipe(
      Effect.scoped,
      Effect.provide(context),
      Effect.locally(currentTaskHooks, hooks),
      // what the body logs comes back as its output lines, with their levels (and is printed by the
      // runner too, with task=<name> as in a local run)
      Effect.locallyWith(FiberRef.currentLoggers, HashSet.add(eventLogger)),
      Effect.annotateLogs("task", task.name),
      Effect.exit
    )
    const final = watcher === undefined ? exit : Exit.failCause(watcher)
    if (Exit.isSuccess(final)) {
      return { ranOn: me, output, result: { _tag: "Success", json: yield* encodeJson(schemaOf(task), final.value) } } as const
    }
    const failure = Cause.failureOption(final.cause)
    const typed = Option.isSome(failure) && task.errorSchema !== undefined && Schema.is(task.errorSchema)(failure.value)
    const error = typed ? yield* encodeJson(task.errorSchema as Schema.Schema<unknown, unknown>, failure.value) : undefined
    const message = Option.isSome(failure) ? errorText(failure.value) : prettyCause(final.cause)
    return { ranOn: me, output, result: { _tag: "Failure", error, message } } as const
  })

/**
 * A resource group on a runner: its members as one sub-graph, run by
 * today's engine (release order included), with the group's inputs from
 * outside in `context`. No value leaves a group (every task that uses a
 * member's value is a member); its members' output lines come back.
 */
const runGroup = (
  graph: TaskGraph.TaskGraph.Any,
  me: string,
  context: Context.Context<never>,
  members: ReadonlyArray<string>
): Effect.Effect<Ran> =>
  Effect.scoped(Effect.gen(function*() {
    const sub = copyGraph(graph, () => ({}), { name: `${graph.name} / ${members[0]}`, only: new Set(members) })
    const handle = yield* TaskGraph.start(sub as TaskGraph.TaskGraph<unknown, never, unknown>)
    const exit = yield* Effect.exit(handle.await)
    const events = yield* Stream.runCollect(handle.events)
    const output = Chunk.toReadonlyArray(events).flatMap((e) =>
      e._tag === "TaskOutput" ? [lineOf(e.stream, e.line, e.level, e.task)] : []
    )
    if (Exit.isSuccess(exit)) return { ranOn: me, output, result: { _tag: "Success" } } as const
    const failure = Cause.failureOption(exit.cause)
    const message = Option.isSome(failure) ? errorText(failure.value) : prettyCause(exit.cause)
    return { ranOn: me, output, result: { _tag: "Failure", message } } as const
  })).pipe(
    Effect.provide(context),
    Effect.catchAll((error) => Effect.succeed({ ranOn: me, output: [], result: { _tag: "Failure", message: errorText(error) } } as const))
  )

/**
 * The task workflow as a runner runs it: a first activity per runner that
 * starts it records that runner (replayed on re-execution, so a later runner
 * sees who had started it before), then the body runs in the workflow itself.
 *
 * The body is not an activity of its own: the workflow's result is stored
 * anyway, and it has no later step whose replay an activity would spare, so
 * a re-execution (its runner died) runs the body again either way. Each
 * activity is one more persisted message with its reply on the runner's
 * storage loop: 1,000 tasks of 20 ms on one runner took 13.0 s with the
 * body's activity and 11.1 s without it (medians of 3, bench/durable.ts).
 */
const taskWorkflowLayer = (
  graphs: ReadonlyMap<string, { readonly graph: TaskGraph.TaskGraph.Any; readonly fingerprint: string }>,
  me: string,
  services: Context.Context<never>,
  logLevel: LogLevelValue.LogLevel
) => {
  // the same for every task this runner runs: made once (an activity builds its exit schema when made)
  const claimActivities: Array<Activity.Activity<typeof Schema.String, typeof Schema.Never>> = []
  const claim = (i: number) =>
    (claimActivities[i] ??= Activity.make({ name: `claim/${i}`, success: Schema.String, execute: Effect.succeed(me) }))
  return TaskWorkflow.toLayer((payload) =>
    Effect.gen(function*() {
      const claims: Array<string> = []
      for (let i = 1;; i++) {
        const who = yield* claim(i)
        claims.push(who)
        if (who === me) break
      }
      // the body logs at the runner's level, not at the level that keeps the engine quiet
      const ran = yield* Effect.locally(runBody(graphs, me, services, payload), FiberRef.currentMinimumLogLevel, logLevel)
      // the runners that claimed it before this one died while running it
      return { ...ran, runner: me, died: claims.slice(0, -1) }
    })
  )
}

const runWorkflowLayer = RunWorkflow.toLayer(({ fingerprint }) => Effect.succeed(fingerprint))

const named = (store: string) => <A, E, R>(layer: Layer.Layer<A, E, R>): Layer.Layer<A, ClusterError, R> =>
  Layer.catchAllCause(layer, (cause) => {
    if (Cause.isInterruptedOnly(cause)) return Layer.failCause(cause as Cause.Cause<never>)
    const error = Cause.squash(cause)
    if (error instanceof ClusterError) return Layer.fail(error)
    const detail = error instanceof Error && error.cause instanceof Error ? `: ${error.cause.message}` : ""
    return Layer.fail(
      new ClusterError({ message: `the durable store ${redactUrl(store)} cannot be opened: ${errorText(error)}${detail}` })
    )
  })

/** The runner's own server (`--listen`) could not be opened: say so, not that the store failed. */
const listenFailed = (address: RunnerAddress.RunnerAddress, error: SocketServer.SocketServerError): ClusterError => {
  const reason = error.cause instanceof Error ? error.cause.message : String(error.cause)
  const inUse = typeof error.cause === "object" && error.cause !== null && "code" in error.cause && error.cause.code === "EADDRINUSE"
  return new ClusterError({
    message: `the runner cannot listen on ${address.host}:${address.port} (--listen): ${reason}. ${
      inUse ? "Another process has that port: start the runner with another --listen HOST:PORT" : "Is HOST an address of this machine?"
    }`
  })
}

/** Parses `HOST:PORT`. */
export const parseAddress = (listen: string): Option.Option<RunnerAddress.RunnerAddress> => {
  const m = /^(.+):(\d+)$/.exec(listen)
  if (m === null) return Option.none()
  const port = Number(m[2])
  return port > 0 && port < 65536 ? Option.some(RunnerAddress.make(m[1]!.replace(/^\[|\]$/g, ""), port)) : Option.none()
}

/**
 * A runner process: joins the cluster on `store` (PostgreSQL), listens on
 * `address` for the others, and runs the task workflows of `graphs`.
 * `identity` names it in reports (its address and pid).
 */
export const layerRunner = (options: {
  readonly graphs: ReadonlyArray<TaskGraph.TaskGraph.Any>
  readonly fingerprint: (graph: TaskGraph.TaskGraph.Any) => string
  readonly store: string
  readonly address: RunnerAddress.RunnerAddress
  readonly identity: string
}): Layer.Layer<never, ClusterError> => {
  const graphs = new Map(options.graphs.map((graph) => [graph.name, { graph, fingerprint: options.fingerprint(graph) }]))
  // read before `quiet` below: the level the tasks' bodies log at
  return Layer.unwrapEffect(Effect.map(FiberRef.get(FiberRef.currentMinimumLogLevel), (logLevel) => runnerLayer(options, graphs, logLevel)))
}

const runnerLayer = (
  options: Parameters<typeof layerRunner>[0],
  graphs: ReadonlyMap<string, { readonly graph: TaskGraph.TaskGraph.Any; readonly fingerprint: string }>,
  logLevel: LogLevelValue.LogLevel
): Layer.Layer<never, ClusterError> => {
  // a task's body gets the Node platform services, as under `Main.runMain`
  const workflows = Layer.unwrapEffect(Effect.map(
    Effect.context<NodeContext.NodeContext>(),
    (services) =>
      Layer.mergeAll(taskWorkflowLayer(graphs, options.identity, services as Context.Context<never>, logLevel), runWorkflowLayer)
  ))
  return workflows.pipe(
    Layer.provide(NodeContext.layer),
    Layer.provide(ClusterWorkflowEngine.layer),
    Layer.provide(
      NodeClusterSocket.layer({
        storage: "sql",
        shardingConfig: { ...shardingConfig, runnerAddress: Option.some(options.address) }
      }).pipe(
        Layer.catchAll((error) => Layer.fail(error._tag === "SocketServerError" ? listenFailed(options.address, error) : error)),
        Layer.provide(layerSchema)
      )
    ),
    Layer.provide(pgClient(options.store)),
    quiet,
    named(options.store)
  )
}

/** A client-only member of the cluster on `store`: it submits workflows and reads their results, runs none. */
export const layerClient = (store: string): Layer.Layer<WorkflowEngine.WorkflowEngine | RunnerStorage.RunnerStorage, ClusterError> =>
  Layer.mergeAll(
    ClusterWorkflowEngine.layer.pipe(
      Layer.provide(NodeClusterSocket.layer({ clientOnly: true, storage: "sql", shardingConfig }))
    ),
    SqlRunnerStorage.layer.pipe(Layer.provide(ShardingConfig.layer(shardingConfig)))
  ).pipe(Layer.provide(layerSchema), Layer.provide(pgClient(store)), quiet, named(store))

/**
 * Waits (at most `wait`) until a runner is registered and healthy in the
 * store, then until one answers the run's first workflow: a clear message,
 * not a hang, when nobody runs tasks.
 */
export const awaitRunners = (store: string, wait: Duration.DurationInput) =>
  Effect.gen(function*() {
    const runners = yield* RunnerStorage.RunnerStorage
    const healthy = runners.getRunners.pipe(
      Effect.map((all) => all.filter(([, ok]) => ok).length),
      Effect.orElseSucceed(() => 0)
    )
    const found = yield* healthy.pipe(
      Effect.repeat({ schedule: Schedule.spaced("250 millis"), until: (n) => n > 0 }),
      Effect.timeoutOption(wait)
    )
    if (Option.isNone(found)) {
      return yield* new ClusterError({
        message: `no runner is up in ${redactUrl(store)} (waited ${Duration.format(wait)}): start one or more with ` +
          `\`effect-taskgraph runner FILE --store ${redactUrl(store)} --listen HOST:PORT\`, then submit again`
      })
    }
  })

/** Starts (or finds) the remote run: the fingerprint it was first started with, within `wait`. */
export const startRun = (store: string, payload: typeof RunWorkflow.payloadSchema.Type, wait: Duration.DurationInput) =>
  RunWorkflow.execute(payload).pipe(
    Effect.timeoutFail({
      duration: wait,
      onTimeout: () =>
        new ClusterError({
          message: `no runner in ${redactUrl(store)} answered within ${Duration.format(wait)}: are the runners up ` +
            `and reachable at the addresses they were started with (--listen)?`
        })
    })
  )
