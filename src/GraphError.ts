/**
 * What can be wrong with a graph before anything runs. Every error names the
 * tasks involved and says how to fix it; nothing has started when one is raised.
 *
 * @example
 * ```ts
 * import { Effect } from "effect"
 * import { Task, TaskGraph } from "effect-taskgraph"
 *
 * const a = Task.make("a", { run: Effect.void })
 * const b = Task.make("b", { after: [a], run: Effect.void })
 * const cyclic = TaskGraph.make("cyclic", [a, b]).pipe(TaskGraph.precedence(b, a))
 *
 * TaskGraph.validate(cyclic).pipe(
 *   Effect.catchTag("CycleError", (e) => Effect.log(e.message)) // "cycle: a -> b -> a …"
 * )
 * ```
 *
 * @since 0.1.0
 */
import { Data, Predicate } from "effect"

/**
 * Marks every graph error (the `@effect/platform` `Error.ts` pattern), so that
 * `isGraphError` recognises them without a list of tag names.
 *
 * @example
 * ```ts
 * import { GraphError } from "effect-taskgraph"
 *
 * const error = new GraphError.DuplicateTaskError({ task: "build" })
 * error[GraphError.TypeId] === GraphError.TypeId // true
 * ```
 *
 * @since 0.1.0
 * @category type ids
 */
export const TypeId: unique symbol = Symbol.for("effect-taskgraph/GraphError")
/**
 * The type of `GraphError.TypeId`.
 *
 * @example
 * ```ts
 * import { GraphError } from "effect-taskgraph"
 *
 * const id: GraphError.TypeId = GraphError.TypeId
 * ```
 *
 * @since 0.1.0
 * @category type ids
 */
export type TypeId = typeof TypeId

/**
 * The tasks form a cycle (data and precedence edges alike).
 *
 * @example
 * ```ts
 * import { GraphError } from "effect-taskgraph"
 * new GraphError.CycleError({ path: ["a", "b", "a"] }).message // "cycle in the task graph: a -> b -> a …"
 * ```
 * @since 0.1.0
 * @category errors
 */
export class CycleError extends Data.TaggedError("CycleError")<{
  readonly path: ReadonlyArray<string>
  /** set when the graph is a child run inside a task (graphs inside tasks): its name */
  readonly graph?: string | undefined
}> {
  /**
   * Marks it as a graph error (see `isGraphError`).
   *
   * @example
   * ```ts
   * import { GraphError } from "effect-taskgraph"
   *
   * declare const error: GraphError.CycleError
   * error[GraphError.TypeId] === GraphError.TypeId // true
   * ```
   *
   * @since 0.1.0
   */
  declare readonly [TypeId]: TypeId
  override get message() {
    return inGraph(this.graph) + `cycle in the task graph: ${this.path.join(" -> ")}. ` +
      `Remove one of these edges (a "requires" tag or an "after"/precedence).`
  }
}

/**
 * A task requires the tag it provides, lists itself in `after`, or a
 * precedence puts it before itself.
 *
 * @example
 * ```ts
 * import { GraphError } from "effect-taskgraph"
 * new GraphError.SelfDependencyError({ task: "vm", via: "Vm" }).message
 * ```
 * @since 0.1.0
 * @category errors
 */
export class SelfDependencyError extends Data.TaggedError("SelfDependencyError")<{
  readonly task: string
  /** the tag key, "after", or "precedence" (a `TaskGraph.precedence` of a task before itself) */
  readonly via: string
  /** set when the graph is a child run inside a task (graphs inside tasks): its name */
  readonly graph?: string | undefined
}> {
  /**
   * Marks it as a graph error (see `isGraphError`).
   *
   * @example
   * ```ts
   * import { GraphError } from "effect-taskgraph"
   *
   * declare const error: GraphError.SelfDependencyError
   * error[GraphError.TypeId] === GraphError.TypeId // true
   * ```
   *
   * @since 0.1.0
   */
  declare readonly [TypeId]: TypeId
  override get message() {
    return inGraph(this.graph) + (this.via === "after"
      ? `task "${this.task}" lists itself in "after"; remove it.`
      : this.via === "precedence"
      ? `a precedence puts task "${this.task}" before itself; remove it.`
      : `task "${this.task}" both provides and requires "${this.via}"; a task cannot depend on itself.`)
  }
}

/**
 * A required tag is provided by no task of the graph and not by the context.
 *
 * @example
 * ```ts
 * import { GraphError } from "effect-taskgraph"
 * new GraphError.MissingProviderError({ tag: "Vm", requiredBy: ["run tests"] }).message
 * ```
 * @since 0.1.0
 * @category errors
 */
export class MissingProviderError extends Data.TaggedError("MissingProviderError")<{
  readonly tag: string
  readonly requiredBy: ReadonlyArray<string>
  /** set when the graph is a child run inside a task (graphs inside tasks): its name */
  readonly graph?: string | undefined
}> {
  /**
   * Marks it as a graph error (see `isGraphError`).
   *
   * @example
   * ```ts
   * import { GraphError } from "effect-taskgraph"
   *
   * declare const error: GraphError.MissingProviderError
   * error[GraphError.TypeId] === GraphError.TypeId // true
   * ```
   *
   * @since 0.1.0
   */
  declare readonly [TypeId]: TypeId
  override get message() {
    return inGraph(this.graph) + `no provider for "${this.tag}", required by ${quoteList(this.requiredBy)}: ` +
      `add a task that provides it to the graph, or provide it to the run (Effect.provide / Layer).`
  }
}

/**
 * Two tasks provide the same tag.
 *
 * @example
 * ```ts
 * import { GraphError } from "effect-taskgraph"
 * new GraphError.DuplicateProviderError({ tag: "Vm", providers: ["vm a", "vm b"] }).message
 * ```
 * @since 0.1.0
 * @category errors
 */
export class DuplicateProviderError extends Data.TaggedError("DuplicateProviderError")<{
  readonly tag: string
  readonly providers: ReadonlyArray<string>
  /** set when the graph is a child run inside a task (graphs inside tasks): its name */
  readonly graph?: string | undefined
}> {
  /**
   * Marks it as a graph error (see `isGraphError`).
   *
   * @example
   * ```ts
   * import { GraphError } from "effect-taskgraph"
   *
   * declare const error: GraphError.DuplicateProviderError
   * error[GraphError.TypeId] === GraphError.TypeId // true
   * ```
   *
   * @since 0.1.0
   */
  declare readonly [TypeId]: TypeId
  override get message() {
    return inGraph(this.graph) + `"${this.tag}" is provided by ${quoteList(this.providers)}; a tag needs exactly one provider ` +
      `(give each its own tag, e.g. class VmA extends Context.Tag("VmA")…).`
  }
}

/**
 * Two tasks of a graph have the same name.
 *
 * @example
 * ```ts
 * import { GraphError } from "effect-taskgraph"
 * new GraphError.DuplicateTaskError({ task: "build" }).message
 * ```
 * @since 0.1.0
 * @category errors
 */
export class DuplicateTaskError extends Data.TaggedError("DuplicateTaskError")<{
  /** the name two tasks share */
  readonly task: string
  /** set when the graph is a child run inside a task (graphs inside tasks): its name */
  readonly graph?: string | undefined
  /** for a child run: the two tasks whose full names collide, each described */
  readonly tasks?: readonly [string, string] | undefined
  /** true when it is one task listed twice, not two tasks with one name */
  readonly listedTwice?: boolean | undefined
}> {
  /**
   * Marks it as a graph error (see `isGraphError`).
   *
   * @example
   * ```ts
   * import { GraphError } from "effect-taskgraph"
   *
   * declare const error: GraphError.DuplicateTaskError
   * error[GraphError.TypeId] === GraphError.TypeId // true
   * ```
   *
   * @since 0.1.0
   */
  declare readonly [TypeId]: TypeId
  override get message() {
    if (this.tasks !== undefined) {
      return inGraph(this.graph) + `two tasks of the run are named "${this.task}": ${this.tasks[0]} and ${this.tasks[1]}; ` +
        `task names must be unique across the run and its child runs: rename one, or give the child graph another name.`
    }
    if (this.listedTwice === true) {
      return inGraph(this.graph) + `task "${this.task}" is listed twice in the graph; list each task once.`
    }
    return inGraph(this.graph) +
      `two tasks are named "${this.task}"; task names must be unique in a graph (they name events, logs and reports).`
  }
}

/**
 * A precedence or `after` names a task that is not in the graph.
 *
 * @example
 * ```ts
 * import { GraphError } from "effect-taskgraph"
 * new GraphError.UnknownTaskError({ task: "lint", referencedBy: "test", via: "after" }).message
 * ```
 * @since 0.1.0
 * @category errors
 */
export class UnknownTaskError extends Data.TaggedError("UnknownTaskError")<{
  readonly task: string
  readonly referencedBy: string
  readonly via: "after" | "precedence"
  /** set when the graph is a child run inside a task (graphs inside tasks): its name */
  readonly graph?: string | undefined
  /** true when the graph holds another task of that name (tasks are matched by identity, not name) */
  readonly sameName?: boolean | undefined
}> {
  /**
   * Marks it as a graph error (see `isGraphError`).
   *
   * @example
   * ```ts
   * import { GraphError } from "effect-taskgraph"
   *
   * declare const error: GraphError.UnknownTaskError
   * error[GraphError.TypeId] === GraphError.TypeId // true
   * ```
   *
   * @since 0.1.0
   */
  declare readonly [TypeId]: TypeId
  override get message() {
    const fix = this.sameName === true
      ? `the graph holds another task named "${this.task}" (tasks are matched as values, not by name): ` +
        `reference the task that is in the graph, not a second Task.make of it.`
      : `add it to TaskGraph.make.`
    return inGraph(this.graph) + (this.via === "after"
      ? `task "${this.referencedBy}" must run after "${this.task}", which is not in the graph: ${fix}`
      : `a precedence (${this.referencedBy}) names "${this.task}", which is not in the graph: ${fix}`)
  }
}

/**
 * A run option is out of range: concurrency or a pool size is not a positive
 * integer, a task uses a pool that has no size, or needs more than the pool holds.
 *
 * @example
 * ```ts
 * import { GraphError } from "effect-taskgraph"
 * new GraphError.InvalidOptionError({ option: "concurrency", reason: "must be a positive integer, got 0" }).message
 * ```
 * @since 0.1.0
 * @category errors
 */
export class InvalidOptionError extends Data.TaggedError("InvalidOptionError")<{
  readonly option: string
  readonly reason: string
  /** set when the graph is a child run inside a task (graphs inside tasks): its name */
  readonly graph?: string | undefined
}> {
  /**
   * Marks it as a graph error (see `isGraphError`).
   *
   * @example
   * ```ts
   * import { GraphError } from "effect-taskgraph"
   *
   * declare const error: GraphError.InvalidOptionError
   * error[GraphError.TypeId] === GraphError.TypeId // true
   * ```
   *
   * @since 0.1.0
   */
  declare readonly [TypeId]: TypeId
  override get message() {
    return inGraph(this.graph) + `invalid ${this.option}: ${this.reason}`
  }
}

/**
 * Every way a graph can be invalid.
 *
 * @example
 * ```ts
 * import { Effect } from "effect"
 * import { Task, TaskGraph } from "effect-taskgraph"
 * import type { GraphError } from "effect-taskgraph"
 *
 * const a = Task.make("a", { run: Effect.void })
 * const invalid: Effect.Effect<TaskGraph.Plan, GraphError.GraphError> = TaskGraph.validate(TaskGraph.make("g", [a, a]))
 * ```
 *
 * @since 0.1.0
 * @category errors
 */
export type GraphError =
  | CycleError
  | SelfDependencyError
  | MissingProviderError
  | DuplicateProviderError
  | DuplicateTaskError
  | UnknownTaskError
  | InvalidOptionError

// on the prototypes, not as fields: a field would take part in each error's equality and inspection
for (
  const error of [
    CycleError,
    SelfDependencyError,
    MissingProviderError,
    DuplicateProviderError,
    DuplicateTaskError,
    UnknownTaskError,
    InvalidOptionError
  ]
) Object.defineProperty(error.prototype, TypeId, { value: TypeId })

/**
 * Is this value one of the graph errors?
 *
 * @example
 * ```ts
 * import { GraphError } from "effect-taskgraph"
 *
 * GraphError.isGraphError(new GraphError.DuplicateTaskError({ task: "a" })) // true
 * GraphError.isGraphError(new Error("boom")) // false
 * ```
 *
 * @since 0.1.0
 * @category guards
 */
export const isGraphError = (u: unknown): u is GraphError => Predicate.hasProperty(u, TypeId)

const inGraph = (graph: string | undefined) => (graph === undefined ? "" : `in child graph "${graph}": `)

const quoteList = (names: ReadonlyArray<string>) => names.map((n) => `"${n}"`).join(" and ")
