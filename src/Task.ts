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
import { Cause, Effect, Exit, Layer, Option, Scope } from "effect"
import type { Pipeable } from "effect/Pipeable"
import type { OutputStream } from "./TaskEvent.js"
import * as internal from "./internal/task.js"
import * as ContextMap from "./internal/contextMap.js"
import { currentHooks, outputLine } from "./internal/taskHooks.js"
import type * as RunReport from "./RunReport.js"
import * as TaskGraph from "./TaskGraph.js"

export {
  /**
   * Which stream a line of output came from (defined in `TaskEvent`, re-exported here).
   *
   * @example
   * ```ts
   * import { Task } from "effect-taskgraph"
   *
   * const stream: Task.OutputStream = "stderr"
   * const warn = Task.output("disk almost full", stream)
   * ```
   *
   * @since 0.1.0
   * @category models
   */
  type OutputStream
} from "./TaskEvent.js"

/**
 * A tag of any identifier and service. This is how Effect itself spells an
 * existential tag; user-facing types never see it.
 *
 * @example
 * ```ts
 * import type { Task } from "effect-taskgraph"
 *
 * declare const tags: ReadonlyArray<Task.AnyTag>
 * const keys = tags.map((tag) => tag.key)
 * ```
 *
 * @since 0.1.0
 * @category models
 */
// eslint-disable-next-line @typescript-eslint/no-explicit-any
export type AnyTag = Context.Tag<any, any>

/**
 * Marks every task.
 *
 * @example
 * ```ts
 * import { Effect } from "effect"
 * import { Task } from "effect-taskgraph"
 *
 * const task = Task.make("build", { run: Effect.void })
 * Task.TypeId in task // true
 * ```
 *
 * @since 0.1.0
 * @category type ids
 */
export const TypeId: unique symbol = Symbol.for("effect-taskgraph/Task")
/**
 * The type of `Task.TypeId`.
 *
 * @example
 * ```ts
 * import { Task } from "effect-taskgraph"
 *
 * declare const task: Task.Task<number>
 * const variance: Task.Variance<number, never, never, never, never> = task[Task.TypeId]
 * ```
 *
 * @since 0.1.0
 * @category type ids
 */
export type TypeId = typeof TypeId

/**
 * The variance markers of a task. Every parameter is covariant, so
 * `Task<unknown, unknown, unknown, unknown, unknown>` is the top type.
 *
 * @example
 * ```ts
 * import { Task } from "effect-taskgraph"
 *
 * declare const task: Task.Task<string, Error>
 * const markers: Task.Variance<string, Error, never, never, never> = task[Task.TypeId]
 * ```
 *
 * @since 0.1.0
 * @category models
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
 * @example
 * ```ts
 * import { Effect } from "effect"
 * import { Task } from "effect-taskgraph"
 *
 * const build: Task.Task<number, string> = Task.make("build", {
 *   run: Effect.succeed(42) as Effect.Effect<number, string>
 * })
 * console.log(build.name, build.requires.length)
 * ```
 *
 * @since 0.1.0
 * @category models
 */
export interface Task<out A, out E = never, out R = never, out Provides = never, out Requires = never>
  extends Pipeable
{
  readonly [TypeId]: Variance<A, E, R, Provides, Requires>
  /** Unique within a graph; used in events, reports, logs and spans. */
  readonly name: string
  /**
   * The tags this task provides to later tasks: none, one (`Task.make`: its
   * value is that tag's service) or several (`Task.fromLayer`: its value is a
   * `Context` holding every one of them). See `publishes`.
   */
  readonly provides: ReadonlyArray<AnyTag>
  /**
   * How its value reaches its dependents: `"service"`, the value is the
   * service of its one provided tag; `"context"`, the value is a `Context`
   * and each dependent gets the service of the tag it requires from it.
   */
  readonly publishes: "service" | "context"
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

/**
 * Types computed from a task's type parameters.
 *
 * @example
 * ```ts
 * import { Effect } from "effect"
 * import { Task } from "effect-taskgraph"
 *
 * const count = Task.make("count", { run: Effect.succeed(3) })
 * type Count = Task.Task.Success<typeof count> // number
 * const all: ReadonlyArray<Task.Task.Any> = [count]
 * ```
 *
 * @since 0.1.0
 * @category models
 */
export declare namespace Task {
  /**
   * Any task.
   *
   * @example
   * ```ts
   * import { Effect } from "effect"
   * import { Task } from "effect-taskgraph"
   *
   * const tasks: ReadonlyArray<Task.Task.Any> = [Task.make("a", { run: Effect.succeed(1) }), Task.make("b", { run: Effect.fail("x") })]
   * const names = tasks.map((task) => task.name)
   * ```
   *
   * @since 0.1.0
   * @category models
   */
  export type Any = Task<unknown, unknown, unknown, unknown, unknown>
  /**
   * The value a task produces.
   *
   * @example
   * ```ts
   * import { Effect } from "effect"
   * import { Task } from "effect-taskgraph"
   *
   * const count = Task.make("count", { run: Effect.succeed(3) })
   * type Count = Task.Task.Success<typeof count> // number
   * ```
   *
   * @since 0.1.0
   * @category models
   */
  export type Success<T> = T extends Task<infer A, infer _E, infer _R, infer _P, infer _Q> ? A : never
  /**
   * How a task can fail.
   *
   * @example
   * ```ts
   * import { Effect } from "effect"
   * import { Task } from "effect-taskgraph"
   *
   * const fetch = Task.make("fetch", { run: Effect.fail("offline" as const) })
   * type FetchError = Task.Task.Error<typeof fetch> // "offline"
   * ```
   *
   * @since 0.1.0
   * @category models
   */
  export type Error<T> = T extends Task<infer _A, infer E, infer _R, infer _P, infer _Q> ? E : never
  /**
   * What a task's run needs from its context.
   *
   * @example
   * ```ts
   * import { Context, Effect } from "effect"
   * import { Task } from "effect-taskgraph"
   *
   * class Clock extends Context.Tag("Clock")<Clock, { readonly now: number }>() {}
   * const stamp = Task.make("stamp", { run: Effect.map(Clock, (c) => c.now) })
   * type Needs = Task.Task.Context<typeof stamp> // Clock
   * ```
   *
   * @since 0.1.0
   * @category models
   */
  export type Context<T> = T extends Task<infer _A, infer _E, infer R, infer _P, infer _Q> ? R : never
  /**
   * The identifier of the tag a task provides.
   *
   * @example
   * ```ts
   * import { Context, Effect } from "effect"
   * import { Task } from "effect-taskgraph"
   *
   * class Vm extends Context.Tag("Vm")<Vm, { readonly sshPort: number }>() {}
   * const vm = Task.make("start vm", { provides: Vm, run: Effect.succeed({ sshPort: 2222 }) })
   * type Provided = Task.Task.Provides<typeof vm> // Vm
   * ```
   *
   * @since 0.1.0
   * @category models
   */
  export type Provides<T> = T extends Task<infer _A, infer _E, infer _R, infer P, infer _Q> ? P : never
  /**
   * The identifiers of the tags a task requires.
   *
   * @example
   * ```ts
   * import { Context, Effect } from "effect"
   * import { Task } from "effect-taskgraph"
   *
   * class Vm extends Context.Tag("Vm")<Vm, { readonly sshPort: number }>() {}
   * const tests = Task.make("run tests", { requires: [Vm], run: Effect.void })
   * type Required = Task.Task.Requires<typeof tests> // Vm
   * ```
   *
   * @since 0.1.0
   * @category models
   */
  export type Requires<T> = T extends Task<infer _A, infer _E, infer _R, infer _P, infer Q> ? Q : never
}

/**
 * The options every task accepts besides `run`, `provides` and `requires`.
 *
 * @example
 * ```ts
 * import type { Task } from "effect-taskgraph"
 *
 * declare const setup: Task.Task.Any
 * const options: Task.CommonOptions<never, never> = { after: [setup], timeout: "5 minutes", pools: { vm: 1 } }
 * ```
 *
 * @since 0.1.0
 * @category models
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

/**
 * The identifiers of a list of tags.
 *
 * @example
 * ```ts
 * import { Context } from "effect"
 * import type { Task } from "effect-taskgraph"
 *
 * class Vm extends Context.Tag("Vm")<Vm, { readonly sshPort: number }>() {}
 * class Disk extends Context.Tag("Disk")<Disk, { readonly path: string }>() {}
 * type Ids = Task.Identifiers<[typeof Vm, typeof Disk]> // Vm | Disk
 * ```
 *
 * @since 0.1.0
 * @category models
 */
export type Identifiers<Tags extends ReadonlyArray<AnyTag>> = Tags[number] extends infer T
  ? T extends Context.Tag<infer I, infer _S> ? I : never
  : never

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
 * @category constructors
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
} = (name: string, options: internal.Options) =>
  // the overloads above checked `run` against the task's types; `Task<never, …>` is the bottom task type
  internal.make<never, never, never, never, never>(name, options)

/**
 * What `Task.sync` and `Task.promise` accept besides `run`, `provides` and
 * `requires`: ordering and pools. No `timeout` or `retry`: those are run by
 * a fiber, which these tasks do without.
 *
 * @example
 * ```ts
 * import type { Task } from "effect-taskgraph"
 *
 * const options: Task.CallOptions = { pools: { cpu: 1 } }
 * ```
 *
 * @since 0.1.0
 * @category models
 */
export interface CallOptions {
  /** Tasks that must finish before this one starts. */
  readonly after?: ReadonlyArray<Task.Any> | undefined
  /** Weighted use of named pools, e.g. `{ cpu: 1 }`; sizes are given to `TaskGraph.run`. */
  readonly pools?: Readonly<Record<string, number>> | undefined
}

/** What `Task.sync` and `Task.promise` are given, their types erased. */
interface ErasedCallOptions<F> extends CallOptions {
  readonly provides?: AnyTag | undefined
  readonly requires?: ReadonlyArray<AnyTag> | undefined
  readonly run: F
  readonly schema?: Schema.Schema.AnyNoContext | undefined
}

/** A task whose `run` is `effect` and whose call is `call`, or `NotAFunction` when `run` was not one. */
const callTask = <F>(
  maker: "Task.sync" | "Task.promise",
  name: string,
  options: ErasedCallOptions<F>,
  made: (f: F) => { readonly run: Effect.Effect<unknown, never, unknown>; readonly call: internal.Call }
) =>
  // the overloads checked `run` against the task's types; `Task<never, …>` is the bottom task type
  internal.make<never, never, never, never, never>(name, {
    after: options.after,
    pools: options.pools,
    provides: options.provides,
    requires: options.requires,
    schema: options.schema,
    // not a function (JavaScript callers, casts): no effect, which the graph reports as this task's error
    ...(typeof options.run === "function"
      ? made(options.run)
      : { run: new internal.NotAFunction(options.run, maker) as unknown as Effect.Effect<unknown> })
  })

/**
 * Makes a task whose work is one synchronous function call: the task's
 * `run` is that function applied to the task's services
 * (`Effect.contextWith(run)`), and the scheduler calls `run` itself, on its
 * own stack, instead of starting a fiber for it. A graph of many small
 * synchronous tasks runs at about the cost of bare Effect fibers this way
 * (see the README's Performance section).
 *
 * With `requires`, `run` receives a `Context` of those tags' services (read
 * them with `Context.get`); with `provides`, it returns that tag's service and
 * the tasks that require the tag receive it.
 *
 * What is given up is what a fiber would add around a plain function: no
 * fiber exists for the call (`Fiber.getCurrentFiber()` inside `run` sees the
 * scheduler's fiber, a `Supervisor` sees no fiber start, no fiber metrics),
 * and `run` cannot run effects, so there is no `Scope`, `timeout` or `retry`.
 * Events, reports, spans (with a tracer), edges, pools and failure handling
 * are those of any task: a `run` that throws fails the task with that defect.
 * Durable and cluster runs run the `Effect.contextWith(run)` it is.
 *
 * @example
 * ```ts
 * import { Context, Effect } from "effect"
 * import { Task, TaskGraph } from "effect-taskgraph"
 *
 * class Sizes extends Context.Tag("Sizes")<Sizes, ReadonlyArray<number>>() {}
 * class Total extends Context.Tag("Total")<Total, number>() {}
 *
 * const sizes = Task.sync("sizes", { provides: Sizes, run: () => [3, 5, 8] })
 * const total = Task.sync("total", {
 *   provides: Total,
 *   requires: [Sizes],
 *   run: (services) => Context.get(services, Sizes).reduce((a, b) => a + b, 0)
 * })
 * const show = Task.make("show", { requires: [Total], run: Effect.map(Total, (n) => `total ${n}`) })
 * const graph = TaskGraph.make("sync", [sizes, total, show])
 * ```
 *
 * @since 0.1.0
 * @category constructors
 */
export const sync: {
  <I, S, const Requires extends ReadonlyArray<AnyTag> = readonly [], SI = S>(
    name: string,
    options: CallOptions & {
      readonly provides: Context.Tag<I, S>
      readonly requires?: Requires | undefined
      readonly run: (services: Context.Context<Identifiers<Requires>>) => S
      /** Durable runs: how the service is stored (its encoded side must be JSON). */
      readonly schema?: Schema.Schema<NoInfer<S>, SI> | undefined
    }
  ): Task<S, never, never, I, Identifiers<Requires>>
  <A, const Requires extends ReadonlyArray<AnyTag> = readonly [], SI = A>(
    name: string,
    options: CallOptions & {
      readonly provides?: undefined
      readonly requires?: Requires | undefined
      readonly run: (services: Context.Context<Identifiers<Requires>>) => A
      /** Durable runs: how the value is stored (its encoded side must be JSON). */
      readonly schema?: Schema.Schema<A, SI> | undefined
    }
  ): Task<A, never, never, never, Identifiers<Requires>>
} = (name: string, options: ErasedCallOptions<(services: Context.Context<unknown>) => unknown>) =>
  callTask("Task.sync", name, options, (f) => ({ run: Effect.contextWith(f), call: { _tag: "Sync", f } }))

/**
 * Makes a task whose work is one call that returns a Promise: the task's
 * `run` is `Effect.promise` of that call, and the scheduler makes the call
 * itself and waits for the Promise, instead of starting a fiber for it. For
 * many small asynchronous steps (a request, a timer, a file read) this costs
 * about what the Promise does (see the README's Performance section).
 *
 * `run` gets the services of its `requires` (a `Context`, read with
 * `Context.get`) and an `AbortSignal`. Interrupting the task (fail-fast, the
 * run interrupted) aborts the signal and ends the task as interrupted at
 * once, as `Effect.promise` does; what the Promise does after that is
 * ignored. A rejected Promise, or a `run` that throws, fails the task with
 * that defect (as `Effect.promise`: to fail with a typed error, use
 * `Task.make` with `Effect.tryPromise`).
 *
 * Given up, as with `Task.sync`: no fiber exists for the call, and there is
 * no `Scope`, `timeout` or `retry`. Events, reports, spans, edges, pools and
 * failure handling are those of any task. Durable and cluster runs run the
 * `Effect.promise` it is.
 *
 * @example
 * ```ts
 * import { Context } from "effect"
 * import { Task, TaskGraph } from "effect-taskgraph"
 *
 * class Page extends Context.Tag("Page")<Page, string>() {}
 *
 * const page = Task.promise("fetch page", {
 *   provides: Page,
 *   run: (_, signal) => fetch("https://example.com", { signal }).then((response) => response.text())
 * })
 * const size = Task.sync("size", { requires: [Page], run: (services) => Context.get(services, Page).length })
 * const graph = TaskGraph.make("pages", [page, size])
 * ```
 *
 * @since 0.1.0
 * @category constructors
 */
export const promise: {
  <I, S, const Requires extends ReadonlyArray<AnyTag> = readonly [], SI = S>(
    name: string,
    options: CallOptions & {
      readonly provides: Context.Tag<I, S>
      readonly requires?: Requires | undefined
      readonly run: (services: Context.Context<Identifiers<Requires>>, signal: AbortSignal) => PromiseLike<S>
      /** Durable runs: how the service is stored (its encoded side must be JSON). */
      readonly schema?: Schema.Schema<NoInfer<S>, SI> | undefined
    }
  ): Task<S, never, never, I, Identifiers<Requires>>
  <A, const Requires extends ReadonlyArray<AnyTag> = readonly [], SI = A>(
    name: string,
    options: CallOptions & {
      readonly provides?: undefined
      readonly requires?: Requires | undefined
      readonly run: (services: Context.Context<Identifiers<Requires>>, signal: AbortSignal) => PromiseLike<A>
      /** Durable runs: how the value is stored (its encoded side must be JSON). */
      readonly schema?: Schema.Schema<A, SI> | undefined
    }
  ): Task<A, never, never, never, Identifiers<Requires>>
} = (
  name: string,
  options: ErasedCallOptions<(services: Context.Context<unknown>, signal: AbortSignal) => PromiseLike<unknown>>
) =>
  callTask("Task.promise", name, options, (f) => ({
    run: Effect.contextWithEffect((services: Context.Context<unknown>) => Effect.promise((signal) => f(services, signal))),
    call: { _tag: "Promise", f }
  }))

/**
 * The task `Task.fromLayer` makes when `Listed` (the tags given in
 * `provides`) are exactly the layer's output `ROut`; otherwise an object type
 * whose property name tells what to change, which the compiler shows where
 * the result is used as a task (e.g. at `TaskGraph.make`).
 *
 * The check sits in the result, not in `options`: a constraint that mentions
 * `ROut` there would make the compiler fix `ROut` before it reads an inline
 * layer expression.
 *
 * @example
 * ```ts
 * import { Context } from "effect"
 * import type { Task } from "effect-taskgraph"
 *
 * class Db extends Context.Tag("Db")<Db, string>() {}
 * type Ok = Task.CheckLayerProvides<Db, Db, "ok"> // "ok"
 * ```
 *
 * @since 0.1.0
 * @category type-level
 */
export type CheckLayerProvides<ROut, Listed, T> = [Exclude<ROut, Listed>] extends [never]
  ? [Exclude<Listed, ROut>] extends [never] ? T
  : { readonly "these tags are listed in provides but the layer does not build them": Exclude<Listed, ROut> }
  : { readonly "the layer also builds these tags: list every one in provides": Exclude<ROut, Listed> }

/**
 * Makes a task from a `Layer`: the task builds the layer in its own scope and
 * provides every tag of the layer's output to later tasks (a task that needs
 * one lists that tag in `requires`, as for any provider).
 *
 * - `provides` lists the layer's output tags (a layer cannot be inspected
 *   before it is built, and the graph is planned before anything runs); the
 *   compiler checks that the list is exactly the layer's output.
 * - The layer's input requirements are the task's requirements: list in
 *   `requires` those another task of the graph provides (the layer is then
 *   built after it, and the compiler insists, as for `Task.make`); the others
 *   come from the run's context and are in the graph's `R`.
 * - The layer's resources are the task's resources: released when the last
 *   task that requires any of its tags has finished, dependents first. A
 *   layer that fails to build fails the task with the layer's `Cause`.
 * - `timeout`, `retry` (each attempt builds the layer afresh) and `pools`
 *   work as for any task. The task's value (in the report) is the built
 *   `Context`.
 *
 * @example
 * ```ts
 * import { Context, Effect, Layer } from "effect"
 * import { Task, TaskGraph } from "effect-taskgraph"
 *
 * class Db extends Context.Tag("Db")<Db, { readonly url: string }>() {}
 * class Cache extends Context.Tag("Cache")<Cache, { readonly size: number }>() {}
 *
 * const Live = Layer.merge(Layer.succeed(Db, { url: "pg://x" }), Layer.succeed(Cache, { size: 64 }))
 * const env = Task.fromLayer("start db and cache", Live, { provides: [Db, Cache] })
 * const query = Task.make("query", { requires: [Db], run: Effect.map(Db, (db) => db.url) })
 * const warm = Task.make("warm", { requires: [Cache], run: Effect.map(Cache, (c) => c.size) })
 * const graph = TaskGraph.make("layers", [env, query, warm])
 * ```
 *
 * @since 0.1.0
 * @category constructors
 */
export const fromLayer = <
  ROut,
  E,
  RIn,
  const Tags extends ReadonlyArray<AnyTag>,
  const Requires extends ReadonlyArray<AnyTag> = readonly [],
  RS = never
>(
  name: string,
  layer: Layer.Layer<ROut, E, RIn>,
  options: CommonOptions<E, RS> & {
    readonly provides: Tags
    readonly requires?: Requires | undefined
  }
): CheckLayerProvides<ROut, Identifiers<Tags>, Task<Context.Context<ROut>, E, RIn | NoInfer<RS>, ROut, Identifiers<Requires>>> => {
  const provides: ReadonlyArray<AnyTag> = options.provides
  const build = Effect.flatMap(Scope.Scope, (scope) => Layer.buildWithScope(layer, scope)).pipe(
    Effect.tap((context) => {
      // the types make this impossible; a hand-cast layer still gets a clear message
      const missing = provides.filter((tag) => !ContextMap.has(context, tag.key))
      return missing.length === 0 ? Effect.void : Effect.dieMessage(
        `task "${name}": the layer did not build ${missing.map((tag) => `"${tag.key}"`).join(", ")}, ` +
          `which it lists in provides; list only what the layer builds`
      )
    })
  )
  const task: Task<Context.Context<ROut>, E, RIn | NoInfer<RS>, ROut, Identifiers<Requires>> = internal.make(name, {
    ...options,
    provides,
    publishes: "context",
    run: build
  })
  // the check is in the result type: when the tags match the layer's output it is `task`'s own type
  return task as CheckLayerProvides<ROut, Identifiers<Tags>, typeof task>
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
 * @category guards
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
 * @category output
 */
export const output = (line: string, stream: OutputStream = "stdout"): Effect.Effect<void> =>
  outputLine(stream, line)

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
 * @category getters
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
 * @category combinators
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

/**
 * What a fan-out needs: every ambient service its item tasks use, plus every
 * tag they require that none of them provides.
 *
 * @example
 * ```ts
 * import { Effect } from "effect"
 * import { Task } from "effect-taskgraph"
 *
 * const tasks = [Task.make("a", { run: Effect.void })] as const
 * type Needs = Task.FanOutContext<typeof tasks> // never
 * ```
 *
 * @since 0.1.0
 * @category type-level
 */
export type FanOutContext<Tasks extends ReadonlyArray<Task.Any>> = Exclude<
  Task.Context<Tasks[number]> | Task.Requires<Tasks[number]>,
  Task.Provides<Tasks[number]>
>

/**
 * The options of `Task.forEach`: those of `Task.make`, the tags the fan-out
 * requires, and how an item's group is named.
 *
 * @example
 * ```ts
 * import { Task } from "effect-taskgraph"
 *
 * const options: Task.ForEachOptions<string, never, never, readonly []> = { label: (file) => file.toUpperCase() }
 * ```
 *
 * @since 0.1.0
 * @category models
 */
export type ForEachOptions<Item, E, RS, Requires extends ReadonlyArray<AnyTag>> = CommonOptions<E, RS> & {
  readonly requires?: Requires | undefined
  /** the name of an item's group (default: the item when it is a string, else `item N`) */
  readonly label?: ((item: Item, index: number) => string) | undefined
}

/**
 * The task `Task.forEach` makes: its value is the items' reports; it fails
 * with what getting the items fails with or with an item graph's error, and
 * needs what the items and the item tasks need.
 *
 * @example
 * ```ts
 * import { Effect } from "effect"
 * import { Task } from "effect-taskgraph"
 *
 * const tasks = [Task.make("run", { run: Effect.void })] as const
 * type Fan = Task.ForEachTask<typeof tasks, never, never, never, readonly []>
 * ```
 *
 * @since 0.1.0
 * @category models
 */
export type ForEachTask<
  Tasks extends ReadonlyArray<Task.Any>,
  EI,
  RI,
  RS,
  Requires extends ReadonlyArray<AnyTag>
> = Task<
  ReadonlyArray<RunReport.RunReport>,
  EI | TaskGraph.TaskGraphError<Task.Error<Tasks[number]>>,
  Exclude<RI, Scope.Scope> | FanOutContext<Tasks> | NoInfer<RS>,
  never,
  Identifiers<Requires>
>

/**
 * A fan-out whose items are known only at run time: a task that gets its
 * items (a list, or an Effect producing them, e.g. from a required tag),
 * then runs each item's tasks as a graph inside the task, named after the
 * item (`label`, by default the item itself when it is a string, else
 * `item N`). All items run at once, bounded by the run's concurrency and
 * pools (graphs inside tasks share them); their tasks appear in the run's
 * events and report as `<task> / <item> / <name>`.
 *
 * In fail-fast mode the first failing item stops the others; in continue
 * mode every item runs to its end. The task fails with the first failure
 * (a `RunFailedError` naming the item's task, or the item graph's
 * `GraphError`); its value is the items' reports.
 *
 * @example
 * ```ts
 * import { Effect } from "effect"
 * import { Task, TaskGraph } from "effect-taskgraph"
 *
 * const shards = Task.forEach("tests", Effect.succeed(["unit", "e2e"]), (shard) => [
 *   Task.make("run tests", { pools: { vm: 1 }, run: Effect.log(`testing ${shard}`) })
 * ])
 * const program = TaskGraph.run(TaskGraph.make("ci", [shards]), { pools: { vm: 2 } })
 * ```
 *
 * @since 0.1.0
 * @category constructors
 */
export const forEach: {
  // An Effect first: a `Context.Tag` is also an `Iterable` (for `yield*`), and its items must be the
  // service's, not the tag's iterator's
  <
    Item,
    const Tasks extends ReadonlyArray<Task.Any>,
    EI = never,
    RI = never,
    const Requires extends ReadonlyArray<AnyTag> = readonly [],
    RS = never
  >(
    name: string,
    items: Effect.Effect<Iterable<Item>, EI, RI>,
    tasks: (item: Item, index: number) => Tasks,
    options?: ForEachOptions<Item, EI | TaskGraph.TaskGraphError<Task.Error<Tasks[number]>>, RS, Requires>
  ): ForEachTask<Tasks, EI, RI, RS, Requires>
  <
    Item,
    const Tasks extends ReadonlyArray<Task.Any>,
    const Requires extends ReadonlyArray<AnyTag> = readonly [],
    RS = never
  >(
    name: string,
    items: Iterable<Item>,
    tasks: (item: Item, index: number) => Tasks,
    options?: ForEachOptions<Item, TaskGraph.TaskGraphError<Task.Error<Tasks[number]>>, RS, Requires>
  ): ForEachTask<Tasks, never, never, RS, Requires>
} = <
  Item,
  const Tasks extends ReadonlyArray<Task.Any>,
  EI,
  RI,
  const Requires extends ReadonlyArray<AnyTag>,
  RS
>(
  name: string,
  items: Iterable<Item> | Effect.Effect<Iterable<Item>, EI, RI>,
  tasks: (item: Item, index: number) => Tasks,
  options?: ForEachOptions<Item, EI | TaskGraph.TaskGraphError<Task.Error<Tasks[number]>>, RS, Requires>
): ForEachTask<Tasks, EI, RI, RS, Requires> => {
  const label = options?.label ?? ((item: Item, index: number) => (typeof item === "string" ? item : `item ${index + 1}`))
  const list: Effect.Effect<Iterable<Item>, EI, RI> = Effect.isEffect(items) ? items : Effect.succeed(items)
  const runItem = (item: Item, index: number) =>
    TaskGraph.run(TaskGraph.make(label(item, index), tasks(item, index) as ReadonlyArray<Task.Any>)) as Effect.Effect<
      RunReport.RunReport,
      TaskGraph.TaskGraphError<Task.Error<Tasks[number]>>,
      FanOutContext<Tasks>
    >
  const run = Effect.gen(function*() {
    const all = Array.from(yield* list)
    const hooks = yield* currentHooks
    const mode = hooks?.nest?.().mode ?? "fail-fast"
    if (mode === "fail-fast") return yield* Effect.forEach(all, runItem, { concurrency: "unbounded" })
    // continue: every item runs to its end; the task then fails with the first failure
    const results = yield* Effect.forEach(all, (item, index) => Effect.either(runItem(item, index)), { concurrency: "unbounded" })
    const reports: Array<RunReport.RunReport> = []
    for (const result of results) {
      if (result._tag === "Left") return yield* Effect.fail(result.left)
      reports.push(result.right)
    }
    return reports
  })
  return internal.make(name, {
    requires: options?.requires,
    after: options?.after,
    timeout: options?.timeout,
    retry: options?.retry,
    pools: options?.pools,
    run
  })
}
