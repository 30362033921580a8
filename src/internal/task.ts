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
import type { Duration, Effect, Schedule, Schema } from "effect"
import { pipeArguments } from "effect/Pipeable"
import type { AnyTag, Task } from "../Task.js"
import { noPools } from "./taskHooks.js"

/** `Task.TypeId` (the same registered symbol; `Task.ts` imports this module, not the reverse). */
const TypeId = Symbol.for("effect-taskgraph/Task")

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
      provides: this.provides.map((tag) => tag.key),
      requires: this.requires.map((tag) => tag.key),
      after: this.after.map((task) => task.name)
    }
  }
}

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
}

/** Makes a task of the type its caller declares (and checked its options against). @internal */
export const make = <A, E, R, I, Q>(name: string, options: Options): Task<A, E, R, I, Q> => {
  const task = Object.create(TaskProto)
  task.name = name
  const provides = options.provides
  task.provides = provides === undefined
    ? noTags
    : isTagList(provides)
    ? (provides.length === 0 ? noTags : provides.slice())
    : [provides]
  task.publishes = options.publishes ?? "service"
  task.requires = options.requires ?? noTags
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

const noTags: ReadonlyArray<AnyTag> = Object.freeze([])

const isTagList = (provides: AnyTag | ReadonlyArray<AnyTag>): provides is ReadonlyArray<AnyTag> => Array.isArray(provides)
