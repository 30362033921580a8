/**
 * A task: one named step of a graph. Its `run` is an Effect; what it hands to
 * later tasks is a typed service (a `Context.Tag`), so a data dependency is a
 * service requirement the compiler checks.
 *
 * @example
 * ```ts
 * import { Context, Effect } from "effect"
 * import { Task } from "effect-taskgraph"
 *
 * class Port extends Context.Tag("Port")<Port, number>() {}
 *
 * const server = Task.make("start server", { provides: Port, run: Effect.succeed(8080) })
 * const client = Task.make("call server", {
 *   requires: [Port],
 *   run: Effect.gen(function* () {
 *     const port = yield* Port
 *     return `http://127.0.0.1:${port}`
 *   })
 * })
 * ```
 *
 * @since 0.1.0
 */
import type { Context, Duration, Fiber, Schedule, Schema } from "effect"
import { Cause, Effect, Exit, Option, Scope } from "effect"
import type { Pipeable } from "effect/Pipeable"
import { pipeArguments } from "effect/Pipeable"
import type { OutputStream } from "./internal/taskHooks.js"
import { currentHooks, noPools } from "./internal/taskHooks.js"

export type { OutputStream } from "./internal/taskHooks.js"

/**
 * A tag of any identifier and service. This is how Effect itself spells an
 * existential tag; user-facing types never see it.
 *
 * @since 0.1.0
 */
// eslint-disable-next-line @typescript-eslint/no-explicit-any
export type AnyTag = Context.Tag<any, any>

/** @since 0.1.0 */
export const TypeId: unique symbol = Symbol.for("effect-taskgraph/Task")
/** @since 0.1.0 */
export type TypeId = typeof TypeId

/**
 * The variance markers of a task. Every parameter is covariant, so
 * `Task<unknown, unknown, unknown, unknown, unknown>` is the top type.
 *
 * @since 0.1.0
 */
export interface Variance<out A, out E, out R, out Provides, out Requires> {
  readonly _A: (_: never) => A
  readonly _E: (_: never) => E
  readonly _R: (_: never) => R
  readonly _Provides: (_: never) => Provides
  readonly _Requires: (_: never) => Requires
}

/**
 * A task of a graph.
 *
 * - `A`: the value its `run` produces (the service, for a provider).
 * - `E`: how its `run` can fail.
 * - `R`: what its `run` needs from its context (without `Scope`, which every task gets).
 * - `Provides`: the identifier of the tag it provides (`never` if none).
 * - `Requires`: the identifiers of the tags it declared in `requires`.
 *
 * @since 0.1.0
 */
export interface Task<out A, out E = never, out R = never, out Provides = never, out Requires = never>
  extends Pipeable
{
  readonly [TypeId]: Variance<A, E, R, Provides, Requires>
  /** Unique within a graph; used in events, reports, logs and spans. */
  readonly name: string
  /** The tag this task provides to later tasks, if any. */
  readonly provides: AnyTag | undefined
  /** The tags this task needs from other tasks (or from the context). */
  readonly requires: ReadonlyArray<AnyTag>
  /** Tasks that must have finished their run before this one starts, though no data flows. */
  readonly after: ReadonlyArray<Task.Any>
  /** The work. It may use `Scope`: what it acquires lives as long as the task's resources. */
  readonly run: Effect.Effect<A, E, R | Scope.Scope>
  /** The longest the task may take to become ready (all retries included). */
  readonly timeout: Duration.DurationInput | undefined
  /**
   * Retries the run (each attempt in a fresh scope) while the schedule allows.
   * Stored with its input erased (`never`) so that `E` stays covariant; `make`
   * checked that the schedule accepts `E`.
   */
  readonly retry: Schedule.Schedule<unknown, never, R> | undefined
  /** Weighted use of named pools, held until the task is released. */
  readonly pools: Readonly<Record<string, number>>
  /**
   * How its value is stored by a durable run (`effect-taskgraph/durable`);
   * without one, its value cannot cross a durable boundary.
   */
  readonly schema: Schema.Schema.AnyNoContext | undefined
  /** How its typed errors are stored by a durable run; others come back as defects. */
  readonly errorSchema: Schema.Schema.AnyNoContext | undefined
  /**
   * Its value is a live resource (a VM, a session, a server), not data: a
   * durable run runs it again, with every task that uses it, on resume.
   */
  readonly resource: boolean
}

/** @since 0.1.0 */
export declare namespace Task {
  /**
   * Any task.
   *
   * @since 0.1.0
   */
  export type Any = Task<unknown, unknown, unknown, unknown, unknown>
  /** The value a task produces. @since 0.1.0 */
  export type Success<T> = T extends Task<infer A, infer _E, infer _R, infer _P, infer _Q> ? A : never
  /** How a task can fail. @since 0.1.0 */
  export type Error<T> = T extends Task<infer _A, infer E, infer _R, infer _P, infer _Q> ? E : never
  /** What a task's run needs from its context. @since 0.1.0 */
  export type Context<T> = T extends Task<infer _A, infer _E, infer R, infer _P, infer _Q> ? R : never
  /** The identifier of the tag a task provides. @since 0.1.0 */
  export type Provides<T> = T extends Task<infer _A, infer _E, infer _R, infer P, infer _Q> ? P : never
  /** The identifiers of the tags a task requires. @since 0.1.0 */
  export type Requires<T> = T extends Task<infer _A, infer _E, infer _R, infer _P, infer Q> ? Q : never
}

/**
 * The options every task accepts besides `run`, `provides` and `requires`.
 *
 * @since 0.1.0
 */
export interface CommonOptions<E, RS> {
  /** Tasks that must finish before this one starts (precedence without data). */
  readonly after?: ReadonlyArray<Task.Any> | undefined
  /** The task fails with `TaskTimeoutError` if it is not ready in time (retries included). */
  readonly timeout?: Duration.DurationInput | undefined
  /** Retry the run while this schedule allows; each attempt gets a fresh scope. */
  readonly retry?: Schedule.Schedule<unknown, NoInfer<E>, RS> | undefined
  /** Weighted use of named pools, e.g. `{ vm: 1 }`; sizes are given to `TaskGraph.run`. */
  readonly pools?: Readonly<Record<string, number>> | undefined
  /** Durable runs: how its typed errors are stored (e.g. a `Schema.TaggedError` class or a `Schema.Union` of them). */
  readonly errorSchema?: Schema.Schema.AnyNoContext | undefined
  /** Durable runs: its value is a live resource, run again with the tasks that use it on resume. */
  readonly resource?: boolean | undefined
}

/** The identifiers of a list of tags. @since 0.1.0 */
export type Identifiers<Tags extends ReadonlyArray<AnyTag>> = Tags[number] extends infer T
  ? T extends Context.Tag<infer I, infer _S> ? I : never
  : never

const TaskProto = {
  [TypeId]: {
    _A: (_: never) => _,
    _E: (_: never) => _,
    _R: (_: never) => _,
    _Provides: (_: never) => _,
    _Requires: (_: never) => _
  },
  pipe() {
    // eslint-disable-next-line prefer-rest-params
    return pipeArguments(this, arguments)
  },
  toString(this: Task.Any) {
    return `Task(${this.name})`
  },
  toJSON(this: Task.Any) {
    return {
      _id: "Task",
      name: this.name,
      provides: this.provides?.key,
      requires: this.requires.map((tag) => tag.key),
      after: this.after.map((task) => task.name)
    }
  }
}

/**
 * Makes a task.
 *
 * With `provides`, `run` must produce that tag's service, and the tasks that
 * list the tag in `requires` receive it. Without `provides`, the task's value
 * is kept in the run report.
 *
 * @example
 * ```ts
 * import { Context, Effect, Schedule } from "effect"
 * import { Task } from "effect-taskgraph"
 *
 * class Overlay extends Context.Tag("Overlay")<Overlay, { readonly path: string }>() {}
 *
 * const overlay = Task.make("create overlay image", {
 *   provides: Overlay,
 *   run: Effect.acquireRelease(Effect.succeed({ path: "o.qcow2" }), () => Effect.log("delete o.qcow2"))
 * })
 * const check = Task.make("check overlay", {
 *   requires: [Overlay],
 *   timeout: "10 seconds",
 *   retry: Schedule.recurs(2),
 *   run: Effect.map(Overlay, ({ path }) => path.length)
 * })
 * ```
 *
 * @since 0.1.0
 */
export const make: {
  <I, S, const Requires extends ReadonlyArray<AnyTag> = readonly [], E = never, R = never, RS = never, SI = S>(
    name: string,
    options: CommonOptions<E, RS> & {
      readonly provides: Context.Tag<I, S>
      readonly requires?: Requires | undefined
      readonly run: Effect.Effect<S, E, R>
      /** Durable runs: how the service is stored (its encoded side must be JSON). */
      readonly schema?: Schema.Schema<NoInfer<S>, SI> | undefined
    }
  ): Task<S, E, Exclude<R, Scope.Scope> | NoInfer<RS>, I, Identifiers<Requires>>
  <A, const Requires extends ReadonlyArray<AnyTag> = readonly [], E = never, R = never, RS = never, SI = A>(
    name: string,
    options: CommonOptions<E, RS> & {
      readonly provides?: undefined
      readonly requires?: Requires | undefined
      readonly run: Effect.Effect<A, E, R>
      /** Durable runs: how the value is stored (its encoded side must be JSON). */
      readonly schema?: Schema.Schema<A, SI> | undefined
    }
  ): Task<A, E, Exclude<R, Scope.Scope> | NoInfer<RS>, never, Identifiers<Requires>>
} = (name: string, options: {
  readonly provides?: AnyTag | undefined
  readonly requires?: ReadonlyArray<AnyTag> | undefined
  readonly after?: ReadonlyArray<Task.Any> | undefined
  readonly run: Effect.Effect<unknown, unknown, unknown>
  readonly timeout?: Duration.DurationInput | undefined
  readonly retry?: Schedule.Schedule<unknown, never, unknown> | undefined
  readonly pools?: Readonly<Record<string, number>> | undefined
  readonly schema?: Schema.Schema.AnyNoContext | undefined
  readonly errorSchema?: Schema.Schema.AnyNoContext | undefined
  readonly resource?: boolean | undefined
}) => {
  const task = Object.create(TaskProto)
  task.name = name
  task.provides = options.provides
  task.requires = options.requires ?? []
  task.after = options.after ?? []
  task.run = options.run
  task.timeout = options.timeout
  task.retry = options.retry
  task.pools = options.pools ?? noPools
  task.schema = options.schema
  task.errorSchema = options.errorSchema
  task.resource = options.resource ?? false
  return task
}

/**
 * Is this value a task?
 *
 * @example
 * ```ts
 * import { Effect } from "effect"
 * import { Task } from "effect-taskgraph"
 *
 * Task.isTask(Task.make("t", { run: Effect.void })) // true
 * ```
 *
 * @since 0.1.0
 */
export const isTask = (u: unknown): u is Task.Any => typeof u === "object" && u !== null && TypeId in u

/**
 * Writes one line of output for the current task: it becomes an output event
 * (seen by reporters, log files and `handle.events`). Outside a task it is
 * logged with `Effect.log`.
 *
 * @example
 * ```ts
 * import { Effect } from "effect"
 * import { Task } from "effect-taskgraph"
 *
 * const build = Task.make("build", {
 *   run: Effect.gen(function* () {
 *     yield* Task.output("compiling 3 files")
 *     yield* Task.output("warning: unused variable", "stderr")
 *   })
 * })
 * ```
 *
 * @since 0.1.0
 */
export const output = (line: string, stream: OutputStream = "stdout"): Effect.Effect<void> =>
  Effect.flatMap(currentHooks, (hooks) => {
    if (hooks === undefined) return Effect.log(line)
    hooks.output(stream, line)
    return Effect.void
  })

/**
 * The name of the task the current fiber belongs to, if any.
 *
 * @example
 * ```ts
 * import { Effect, Option } from "effect"
 * import { Task } from "effect-taskgraph"
 *
 * const t = Task.make("who am i", { run: Effect.map(Task.currentName, Option.getOrElse(() => "?")) })
 * ```
 *
 * @since 0.1.0
 */
export const currentName: Effect.Effect<Option.Option<string>> = Effect.map(
  currentHooks,
  (hooks) => Option.fromNullable(hooks?.name)
)

/**
 * Forks a watcher that lives as long as the task's resources (its scope) and
 * whose failure is the task's failure: if a VM's process dies while other
 * tasks use the VM, the watcher fails, dependents are interrupted and the run
 * fails with that cause instead of hanging until some timeout.
 *
 * Outside a graph the watcher is simply forked into the scope.
 *
 * @example
 * ```ts
 * import { Context, Effect } from "effect"
 * import { Task } from "effect-taskgraph"
 *
 * class Server extends Context.Tag("Server")<Server, { readonly port: number }>() {}
 *
 * const server = Task.make("server", {
 *   provides: Server,
 *   run: Effect.gen(function* () {
 *     // e.g. wait for the process to exit; exiting at all is a failure here
 *     yield* Task.watch(Effect.never)
 *     return { port: 8080 }
 *   })
 * })
 * ```
 *
 * @since 0.1.0
 */
export const watch = <A, E, R>(
  effect: Effect.Effect<A, E, R>
): Effect.Effect<Fiber.RuntimeFiber<A, E>, never, R | Scope.Scope> =>
  Effect.gen(function* () {
    const scope = yield* Scope.Scope
    const hooks = yield* currentHooks
    const watched = hooks === undefined ? effect : effect.pipe(
      Effect.onExit((exit) => {
        if (Exit.isFailure(exit) && !Cause.isInterruptedOnly(exit.cause)) hooks.watcherFailed(exit.cause)
        return Effect.void
      })
    )
    return yield* Effect.forkIn(watched, scope)
  })
