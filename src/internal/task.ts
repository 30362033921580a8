/**
 * How a task object is made: the prototype every task shares and the
 * constructor behind `Task.make` and the ready-made tasks of `QemuTask`.
 *
 * `make` does not check that `run` fits the task's types: its callers do
 * (`Task.make`'s overloads, `QemuTask`'s private `build`), each from its own
 * declared types.
 *
 * @internal
 */
import type { Context, Duration, Effect, Schedule, Schema } from "effect"
import { NodeInspectSymbol } from "effect/Inspectable"
import { pipeArguments } from "effect/Pipeable"
import type { AnyTag, Task } from "../Task.js"
import { noPools } from "./taskHooks.js"

/** `Task.TypeId` (the same registered symbol; `Task.ts` imports this module, not the reverse). */
const TypeId = Symbol.for("effect-taskgraph/Task")

/** What a task is made of, its types erased. @internal */
export interface Options {
  /** one tag (`Task.make`) or every tag of a layer's output (`Task.fromLayer`) */
  readonly provides?: AnyTag | ReadonlyArray<AnyTag> | undefined
  /** what `run` produces: the one service, or a `Context` of every provided tag */
  readonly publishes?: "service" | "context" | undefined
  readonly requires?: ReadonlyArray<AnyTag> | undefined
  readonly after?: ReadonlyArray<Task.Any> | undefined
  readonly run: Effect.Effect<unknown, unknown, unknown>
  readonly timeout?: Duration.DurationInput | undefined
  readonly retry?: Schedule.Schedule<unknown, never, unknown> | undefined
  readonly pools?: Readonly<Record<string, number>> | undefined
  /** durable runs: how the task's value is stored (Durable.ts) */
  readonly schema?: Schema.Schema.AnyNoContext | undefined
  /** durable runs: how the task's typed errors are stored */
  readonly errorSchema?: Schema.Schema.AnyNoContext | undefined
  /** durable runs: a live resource, re-run with every task that uses it */
  readonly resource?: boolean | undefined
  /** `Task.sync` / `Task.promise`: the function the scheduler calls itself, without a fiber */
  readonly call?: Call | undefined
}

/**
 * Plan compilation notes each task's index on the task itself, then finds the task an `after` edge
 * names by that index instead of through a 100k-entry Map (a scattered lookup per edge, ~0.2 µs on a
 * large graph, measured). A note left by another graph is harmless: `positionIn` only trusts it when
 * the graph holds that very task at that index.
 */
const Position: unique symbol = Symbol.for("effect-taskgraph/Task/position")

/**
 * A task object. A class whose constructor sets every field, not `Object.create(proto)` and twelve
 * assignments: V8 then keeps the fields inside the object (one allocation, no growing property
 * store). Alone, making 100k such objects takes ~32 ms instead of ~60; inside a whole first run the
 * gain is within noise, and 100k tasks hold 0.49 KB each instead of 0.51 (measured).
 * `declare`d fields: a field declaration would cost a defineProperty per task.
 */
class TaskImpl {
  /** the task's index in the graph compiled last (`notePosition`, `positionIn`) */
  declare [Position]: number
  declare readonly name: string
  declare readonly provides: ReadonlyArray<AnyTag>
  declare readonly publishes: "service" | "context"
  declare readonly requires: ReadonlyArray<AnyTag>
  declare readonly after: ReadonlyArray<Task.Any>
  declare readonly run: Effect.Effect<unknown, unknown, unknown>
  declare readonly timeout: Duration.DurationInput | undefined
  declare readonly retry: Schedule.Schedule<unknown, never, unknown> | undefined
  declare readonly pools: Readonly<Record<string, number>>
  declare readonly schema: Schema.Schema.AnyNoContext | undefined
  declare readonly errorSchema: Schema.Schema.AnyNoContext | undefined
  declare readonly resource: boolean
  declare readonly call: Call | undefined
  constructor(name: string, options: Options) {
    this[Position] = -1
    this.name = name
    const provides = options.provides
    this.provides = provides === undefined
      ? noTags
      : isTagList(provides)
      ? (provides.length === 0 ? noTags : provides.slice())
      : [provides]
    this.publishes = options.publishes ?? "service"
    this.requires = options.requires ?? noTags
    this.after = options.after ?? []
    this.run = options.run
    this.timeout = options.timeout
    this.retry = options.retry
    this.pools = options.pools ?? noPools
    this.schema = options.schema
    this.errorSchema = options.errorSchema
    this.resource = options.resource ?? false
    this.call = options.call
  }
  pipe() {
    // eslint-disable-next-line prefer-rest-params
    return pipeArguments(this, arguments)
  }
  toString() {
    return `Task(${this.name})`
  }
  [NodeInspectSymbol]() {
    return this.toJSON()
  }
  toJSON() {
    return {
      _id: "Task",
      name: this.name,
      provides: this.provides.map((tag) => tag.key),
      requires: this.requires.map((tag) => tag.key),
      after: this.after.map((task) => task.name)
    }
  }
}
Object.defineProperty(TaskImpl.prototype, TypeId, {
  value: {
    _A: (_: never) => _,
    _E: (_: never) => _,
    _R: (_: never) => _,
    _Provides: (_: never) => _,
    _Requires: (_: never) => _
  }
})

/** Is this a task (of this copy of the library or another)? `Task.isTask`, for internal modules. @internal */
export const isTask = (u: unknown): u is Task.Any => typeof u === "object" && u !== null && TypeId in u

/** @internal */
export const notePosition = (task: Task.Any, i: number): void => {
  if (task instanceof TaskImpl) task[Position] = i
}

/** The index of `task` in `tasks` if `notePosition` recorded it there, else `undefined`. @internal */
export const positionIn = (task: Task.Any, tasks: ReadonlyArray<Task.Any>): number | undefined => {
  const i = task instanceof TaskImpl ? task[Position] : -1
  return i >= 0 && tasks[i] === task ? i : undefined
}

/**
 * What a `Task.sync` or `Task.promise` task calls: a function of the task's services (and, for a
 * promise, an `AbortSignal` aborted when the task is interrupted). Their overloads typed the services
 * it reads (`requires`), which the plan checked. Its `run` is the same call as an Effect
 * (`Effect.contextWith`, `Effect.promise`), for runners that need one. @internal
 */
export type Call =
  | { readonly _tag: "Sync"; readonly f: (services: Context.Context<unknown>) => unknown }
  | { readonly _tag: "Promise"; readonly f: (services: Context.Context<unknown>, signal: AbortSignal) => PromiseLike<unknown> }

/** The call of a `Task.sync` or `Task.promise` task, or `undefined` for any other task (of any copy of the library). @internal */
export const callOf = (task: Task.Any): Call | undefined => task instanceof TaskImpl ? task.call : undefined

/**
 * A copy of `task` with some fields replaced. A `Task.sync` or `Task.promise` task given a new `run`
 * loses its call: the scheduler runs the new `run` in a fiber, as for any task. @internal
 */
export const copy = <T extends Task.Any>(task: T, changes: Partial<Options>): T => {
  const copied: T = Object.assign(Object.create(Object.getPrototypeOf(task)), task, changes)
  if (changes.run !== undefined && copied instanceof TaskImpl) Object.assign(copied, { call: undefined })
  return copied
}

/**
 * The `run` of a `Task.sync` or `Task.promise` task given something other than a function (JavaScript callers, casts):
 * not an Effect, so the graph rejects the task, and its error can say what was given. @internal
 */
export class NotAFunction {
  constructor(readonly given: unknown, readonly maker: "Task.sync" | "Task.promise") {}
}

/** Makes a task of the type its caller declares (and checked its options against). @internal */
export const make = <A, E, R, I, Q>(name: string, options: Options): Task<A, E, R, I, Q> =>
  // the caller checked `options` against `Task<A, E, R, I, Q>` (see the module comment); the class
  // carries the erased types only
  new TaskImpl(name, options) as unknown as Task<A, E, R, I, Q>

const noTags: ReadonlyArray<AnyTag> = Object.freeze([])

const isTagList = (provides: AnyTag | ReadonlyArray<AnyTag>): provides is ReadonlyArray<AnyTag> => Array.isArray(provides)
