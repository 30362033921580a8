/**
 * The store of durable runs: one `@effect/workflow` execution per run id,
 * whose activities are the tasks. Results are written and read by the
 * cluster's own `MessageStorage` (sqlite through `SingleRunner`); nothing
 * here persists anything by itself.
 *
 * A task runs in today's scheduler, not inside the activity: the activity's
 * `execute` only hands over the task's outcome (a bridge). That keeps the
 * task interruptible (the cluster runs activities uninterruptibly), its
 * scope, output and watchers where they belong, and lets a lookup answer
 * "already stored" without running anything.
 *
 * @internal
 */
import * as ClusterWorkflowEngine from "@effect/cluster/ClusterWorkflowEngine"
import * as MachineId from "@effect/cluster/MachineId"
import * as RunnerHealth from "@effect/cluster/RunnerHealth"
import * as Runners from "@effect/cluster/Runners"
import * as RunnerStorage from "@effect/cluster/RunnerStorage"
import * as Sharding from "@effect/cluster/Sharding"
import * as ShardingConfig from "@effect/cluster/ShardingConfig"
import * as SqlMessageStorage from "@effect/cluster/SqlMessageStorage"
import * as SqlRunnerStorage from "@effect/cluster/SqlRunnerStorage"
import * as SqlClient from "@effect/sql/SqlClient"
import * as Activity from "@effect/workflow/Activity"
import * as Workflow from "@effect/workflow/Workflow"
import * as WorkflowEngine from "@effect/workflow/WorkflowEngine"
import type { Scope } from "effect"
import { Cause, Context, Data, Deferred, Effect, Exit, Fiber, FiberRef, Layer, LogLevel, Redacted, Schedule, Schema } from "effect"
import * as fs from "node:fs"
import * as os from "node:os"
import * as path from "node:path"
import { makeDirectorySync } from "./makeDirectory.js"
import { errorText } from "./errorText.js"
import * as StoreLock from "./storeLock.js"

/** The store could not be opened or used. */
export class StoreError extends Data.TaggedError("StoreError")<{
  readonly store: string
  readonly reason: string
}> {
  override get message() {
    return `the durable store ${this.store} cannot be opened: ${this.reason}`
  }
}

/** The one workflow every durable run is an execution of; its body never runs (see the module comment). */
export const RunWorkflow = Workflow.make({
  name: "effect-taskgraph/run",
  payload: { runId: Schema.String },
  idempotencyKey: ({ runId }) => runId
})

/** An opened store. */
export interface Store {
  readonly location: string
  readonly engine: WorkflowEngine.WorkflowEngine["Type"]
}

/** @internal */
export class DurableStore extends Context.Tag("effect-taskgraph/DurableStore")<DurableStore, Store>() {}

/**
 * Sharding settings for one process: a stale activity message left by a
 * killed process (its task is never asked for again) must not hold up
 * shutdown for the default 15 s.
 */
const shardingConfig = { entityTerminationTimeout: "1 second" } as const

/** @internal */
export const quiet = <A, E, R>(layer: Layer.Layer<A, E, R>) =>
  // the runner's own warnings (e.g. about the runner a SIGKILL left registered) are not the user's business
  Layer.locally(FiberRef.currentMinimumLogLevel, LogLevel.Error)(layer)

/** The PostgreSQL advisory lock (one number for the whole server) that `layerSchema` holds. @internal */
export const schemaLock = 0x74736b67 // "tskg": under 2^31, so pg_locks shows it as objid

/**
 * Creates the cluster's tables (`SqlMessageStorage`, `SqlRunnerStorage`) one
 * process at a time. On PostgreSQL, `CREATE TABLE IF NOT EXISTS` is not safe
 * when two sessions run it at once: the loser fails with `duplicate key value
 * violates unique constraint "pg_type_typname_nsp_index"` (seen with three
 * runners starting together on a fresh database). Under an advisory lock the
 * first process creates the tables; the others find them. Built before the
 * cluster's own layers, whose set-up then creates nothing. Nothing to do on
 * sqlite, where a statement holds the database lock.
 *
 * @internal
 */
export const layerSchema: Layer.Layer<never, unknown, SqlClient.SqlClient> = Layer.effectDiscard(
  Effect.gen(function*() {
    const sql = yield* SqlClient.SqlClient
    if (!sql.onDialectOrElse({ pg: () => true, orElse: () => false })) return
    const connection = yield* sql.reserve
    yield* connection.executeRaw(`SELECT pg_advisory_lock(${schemaLock})`, [])
    const tables = Layer.mergeAll(SqlMessageStorage.layer, SqlRunnerStorage.layer).pipe(
      Layer.provide(ShardingConfig.layer())
    )
    yield* Effect.scoped(Layer.build(tables)).pipe(
      // the connection goes back to the pool: it must not keep the lock
      Effect.ensuring(Effect.ignore(connection.executeRaw(`SELECT pg_advisory_unlock(${schemaLock})`, [])))
    )
  }).pipe(Effect.scoped)
)

/**
 * The machine id of this process's message ids (Snowflakes: time, machine id, sequence).
 *
 * Every single-process store registers the same runner address (the default one: it runs no server),
 * and the runner table gives one machine id per address, so two durable runs at once on one
 * PostgreSQL database made the same ids in the same millisecond and one failed with `duplicate key
 * value violates unique constraint "cluster_messages_pkey"` (seen with four CLI runs started
 * together). The pid tells processes of one host apart; the host name's hash spreads hosts.
 */
const processMachineId = (): MachineId.MachineId => {
  let hash = 0
  for (const c of os.hostname()) hash = (Math.imul(hash, 31) + c.charCodeAt(0)) | 0
  return MachineId.make(((hash >>> 0) + process.pid) % 1024)
}

/**
 * `SingleRunner.layer({ runnerStorage: "sql" })`, built from its parts so that the runner storage
 * hands out this process's machine id (`processMachineId`); the rest is the same.
 */
const singleRunner = Sharding.layer.pipe(
  Layer.provideMerge(Runners.layerNoop),
  Layer.provideMerge(SqlMessageStorage.layer),
  Layer.provide([
    Layer.effect(
      RunnerStorage.RunnerStorage,
      Effect.map(RunnerStorage.RunnerStorage, (storage) => {
        const machineId = processMachineId()
        return { ...storage, register: (runner, healthy) => Effect.as(storage.register(runner, healthy), machineId) }
      })
    ).pipe(Layer.provide(Layer.orDie(SqlRunnerStorage.layer))),
    RunnerHealth.layerNoop
  ]),
  Layer.provide(ShardingConfig.layerFromEnv(shardingConfig))
)

/**
 * The engine over one sql client, with every failure to open it as a `StoreError` naming the store.
 * `check` runs first, in the store's scope (the sqlite lock is held until the store closes);
 * `preflight` on the client before the cluster's layers.
 */
const layerOn = (
  location: string,
  client: Layer.Layer<SqlClient.SqlClient, unknown>,
  check: Effect.Effect<void, StoreError, Scope.Scope> = Effect.void,
  preflight: Layer.Layer<never, unknown, SqlClient.SqlClient> = layerSchema
): Layer.Layer<DurableStore, StoreError> => {
  const fail = (reason: string) => new StoreError({ store: location, reason })
  const engine = RunWorkflow.toLayer(() => Effect.dieMessage("a durable run's workflow body never runs")).pipe(
    Layer.provideMerge(ClusterWorkflowEngine.layer),
    Layer.provideMerge(singleRunner),
    Layer.provide(preflight),
    Layer.provide(client)
  )
  const store = Layer.effect(DurableStore, Effect.map(WorkflowEngine.WorkflowEngine, (engine) => ({ location, engine })))
  return Layer.unwrapScoped(Effect.as(check, quiet(Layer.provide(store, engine)))).pipe(
    Layer.catchAllCause((cause) => {
      if (Cause.isInterruptedOnly(cause)) return Layer.failCause(cause as Cause.Cause<never>)
      const failure = Cause.failureOption(cause)
      if (failure._tag === "Some" && failure.value instanceof StoreError) return Layer.fail(failure.value)
      const error = Cause.squash(cause)
      const cause1 = error instanceof Error && error.cause instanceof Error ? `: ${error.cause.message}` : ""
      const text = errorText(error) + cause1
      // SQLITE_BUSY after the busy timeout: a program outside this library holds the file's write lock
      const hint = /database is locked/.test(text)
        ? " (another program holds a write lock on it, e.g. an open transaction in sqlite3: end it, or use another store)"
        : ""
      return Layer.fail(fail(text + hint))
    })
  )
}

/**
 * A SQL driver, imported when a store of its kind is opened: a sqlite user needs no `@effect/sql-pg`
 * (and its `pg`), a PostgreSQL user no `@effect/sql-sqlite-node` (and its native better-sqlite3).
 */
const driver = <M>(name: string, version: string, load: () => Promise<M>): Effect.Effect<M, Error> =>
  Effect.tryPromise({
    try: load,
    catch: (e) => {
      const missing = (e as { readonly code?: unknown } | null)?.code === "ERR_MODULE_NOT_FOUND"
      const why = missing ? `, which is not installed (npm install ${name}@${version})` : ", which could not be loaded"
      return new Error(`this store needs ${name}${why}: ${errorText(e)}`)
    }
  })

/** The sql client of a sqlite file. */
const sqliteClient = (filename: string): Layer.Layer<SqlClient.SqlClient, unknown> =>
  Layer.unwrapEffect(
    Effect.map(driver("@effect/sql-sqlite-node", "^0.53.0", () => import("@effect/sql-sqlite-node/SqliteClient")), (m) => m.layer({ filename }))
  )

/**
 * A damaged file (pages overwritten, not merely truncated) opens, and the cluster would then retry
 * "database disk image is malformed" forever behind its hidden warnings: look first.
 */
const integrity = (location: string): Layer.Layer<never, unknown, SqlClient.SqlClient> =>
  Layer.effectDiscard(Effect.gen(function*() {
    const sql = yield* SqlClient.SqlClient
    const rows = yield* sql.unsafe<Record<string, unknown>>("PRAGMA quick_check")
    const problems = rows.map((row) => String(Object.values(row)[0])).filter((line) => line !== "ok")
    if (problems.length > 0) {
      return yield* new StoreError({
        store: location,
        reason: `the file is damaged (PRAGMA quick_check: ${problems.slice(0, 3).join("; ")}): restore it from a backup, ` +
          `or move it away to start a new store (its runs are then lost)`
      })
    }
  }))

/** A sqlite store in one file (created with its directory when missing), open in one process at a time. */
export const layerSqlite = (filename: string): Layer.Layer<DurableStore, StoreError> => {
  const location = path.resolve(filename)
  const fail = (e: unknown) => new StoreError({ store: location, reason: errorText(e) })
  const check = Effect.try({
    try: () => {
      const dir = path.dirname(location)
      if (!fs.existsSync(dir)) makeDirectorySync(dir)
      if (fs.existsSync(location) && fs.statSync(location).isDirectory()) throw new Error("it is a directory")
    },
    catch: fail
  })
  const lock = StoreLock.hold(`${location}.lock`, (pid) =>
    Effect.logWarning(
      `the durable store ${location} is open in process ${pid}; waiting for it to close ` +
        `(a sqlite store is used by one process at a time: use PostgreSQL for several at once)`
    )).pipe(Effect.mapError(fail))
  return layerOn(location, sqliteClient(location), Effect.zipRight(check, lock), Layer.merge(integrity(location), layerSchema))
}

/** `postgres://user:password@host:port/db` without its password, to name it in messages. */
export const redactUrl = (url: string): string => {
  try {
    const u = new URL(url)
    if (u.password !== "") u.password = "***"
    return u.toString()
  } catch {
    return url
  }
}

/** The sql client of a PostgreSQL store: a server that does not answer fails after 5 s. */
export const pgClient = (url: string): Layer.Layer<SqlClient.SqlClient, unknown> =>
  Layer.unwrapEffect(
    Effect.map(
      driver("@effect/sql-pg", "^0.53.0", () => import("@effect/sql-pg/PgClient")),
      (m) => m.layer({ url: Redacted.make(url), connectTimeout: "5 seconds" })
    )
  )

/** A PostgreSQL store (its tables are created on first use). */
export const layerPostgres = (url: string): Layer.Layer<DurableStore, StoreError> => layerOn(redactUrl(url), pgClient(url))

/** A store named by a path (sqlite) or a `postgres://` URL. */
export const layerFor = (store: string): Layer.Layer<DurableStore, StoreError> =>
  isPostgres(store) ? layerPostgres(store) : layerSqlite(store)

/** Whether a store names a PostgreSQL server. */
export const isPostgres = (store: string): boolean => /^postgres(ql)?:\/\//.test(store)

/** What a lookup found. */
export type Lookup<A, E> =
  | { readonly _tag: "Stored"; readonly value: A; readonly attempt: number }
  | {
    readonly _tag: "Open"
    readonly attempt: number
    /** the last failure stored by an earlier attempt, if any */
    readonly previous: Exit.Exit<A, E> | undefined
    /** stores the outcome (typed errors the schema knows stay typed; the rest become defects) */
    readonly complete: (exit: Exit.Exit<A, unknown>) => Effect.Effect<void>
  }


/** The exit as the store keeps it: interruptions and unknown errors become defects with their message. */
const storable = <A>(exit: Exit.Exit<A, unknown>, errorSchema: Schema.Schema.AnyNoContext): Exit.Exit<A, unknown> => {
  if (Exit.isSuccess(exit)) return exit
  const failure = Cause.failureOption(exit.cause)
  if (failure._tag === "Some") {
    return Schema.is(errorSchema)(failure.value) ? Exit.fail(failure.value) : Exit.die(new Error(errorText(failure.value)))
  }
  if (Cause.isInterruptedOnly(exit.cause)) return Exit.die(new Error("interrupted"))
  return Exit.die(Cause.squash(exit.cause))
}

/** One run's handle on the store. */
export interface RunStore {
  readonly runId: string
  readonly location: string
  /**
   * The latest stored outcome of a step, or an open attempt to complete.
   * Failures stored by earlier attempts are skipped: a failed step runs again.
   */
  readonly lookup: <A, I, E, EI>(
    name: string,
    success: Schema.Schema<A, I>,
    error: Schema.Schema<E, EI>
  ) => Effect.Effect<Lookup<A, E>>
}

export const openRun = (store: Store, runId: string): Effect.Effect<RunStore> =>
  Effect.map(RunWorkflow.executionId({ runId }), (executionId) => {
    const instance = WorkflowEngine.WorkflowInstance.initial(RunWorkflow, executionId)
    const lookup = <A, I, E, EI>(
      name: string,
      success: Schema.Schema<A, I>,
      error: Schema.Schema<E, EI>
    ): Effect.Effect<Lookup<A, E>> =>
      Effect.gen(function*() {
        let previous: Exit.Exit<A, E> | undefined
        for (let attempt = 1;; attempt++) {
          const invoked = yield* Deferred.make<void>()
          const outcome = yield* Deferred.make<A, unknown>()
          const activity = Activity.make({
            name,
            success,
            error,
            // never retried on interruption: `storable` turns interruptions into defects
            interruptRetryPolicy: Schedule.stop,
            execute: Effect.zipRight(Deferred.succeed(invoked, undefined), Deferred.await(outcome)) as Effect.Effect<A, E>
          })
          const fiber = yield* store.engine.activityExecute(activity, attempt).pipe(
            Effect.provideService(WorkflowEngine.WorkflowInstance, instance),
            Effect.forkDaemon
          )
          const first = yield* Effect.raceFirst(
            Effect.as(Deferred.await(invoked), "open" as const),
            Effect.as(Fiber.await(fiber), "stored" as const)
          )
          if (first === "open") {
            return {
              _tag: "Open",
              attempt,
              previous,
              complete: (exit) =>
                Effect.uninterruptible(
                  Effect.zipRight(
                    Deferred.done(outcome, storable(exit, error as Schema.Schema.AnyNoContext) as Exit.Exit<A, E>),
                    Effect.ignore(Fiber.await(fiber))
                  )
                )
            } satisfies Lookup<A, E>
          }
          const result = yield* Fiber.join(fiber)
          if (result._tag === "Suspended") return yield* Effect.dieMessage(`the durable store suspended step "${name}"`)
          if (Exit.isSuccess(result.exit)) return { _tag: "Stored", value: result.exit.value, attempt } as const
          previous = result.exit
        }
      })
    return { runId, location: store.location, lookup }
  })
