/**
 * Compiles a graph into index-based arrays and validates it. The scheduler
 * works on these arrays only (no Maps or task objects in its hot loop).
 *
 * @internal
 */
import { Duration, Effect, Either, Option, Schedule } from "effect"
import * as GraphError from "../GraphError.js"
import type { AnyTag, Task } from "../Task.js"
import * as InternalTask from "./task.js"
import { noPools } from "./taskHooks.js"

/** @internal */
export interface GraphSource {
  readonly name: string
  readonly tasks: ReadonlyArray<Task.Any>
  readonly precedences: ReadonlyArray<readonly [Task.Any, Task.Any]>
}

export type { DataEdge, ExternalRequirement, PrecedenceEdge } from "../TaskGraph.js"
import type { DataEdge, ExternalRequirement, PrecedenceEdge } from "../TaskGraph.js"

/**
 * Edges as compressed rows: row i is `items[start[i]]` … `items[start[i + 1] - 1]`.
 * Three flat arrays for a whole graph instead of an array per task: a 100k-task
 * plan is built in a few passes and leaves the garbage collector little to trace.
 */
export interface Rows {
  readonly start: Int32Array
  readonly items: Int32Array
}

/** Row i as an array (for cold paths: reports, pictures). @internal */
export const rowOf = (rows: Rows, i: number): Array<number> => Array.from(rows.items.subarray(rows.start[i]!, rows.start[i + 1]!))

/** Is `item` in row i? @internal */
export const rowHas = (rows: Rows, i: number, item: number): boolean => {
  for (let k = rows.start[i]!, end = rows.start[i + 1]!; k < end; k++) if (rows.items[k] === item) return true
  return false
}

/** @internal */
export interface CompiledPlan {
  readonly source: GraphSource
  readonly n: number
  readonly tasks: ReadonlyArray<Task.Any>
  readonly names: ReadonlyArray<string>
  /** per task: the tasks providing its required tags (distinct) */
  readonly dataDeps: Rows
  /** the tag key of each item of `dataDeps` (what the dependent finds the value under) */
  readonly dataKeys: ReadonlyArray<string>
  /**
   * Aligned with `dataDeps.items`: 1 where the provider publishes a `Context`
   * (`Task.fromLayer`) and the dependent takes the service under the edge's
   * key from it. `undefined` when no task of the graph publishes a Context, so
   * the single-tag path reads nothing more.
   */
  readonly dataPicks: Uint8Array | undefined
  /** per task: every task it waits for (data and precedence, distinct); `dataDeps` itself when there is no precedence */
  readonly waitsFor: Rows
  /** per task: every task that waits for it (data and precedence, distinct), in index order */
  readonly dependents: Rows
  /** per task: how many data edges hold its resources (one per dependent, one per tag for a Context publisher) */
  readonly holders: Int32Array
  /** per task: tasks on the longest path from it to the end, itself included (start priority) */
  readonly height: Int32Array
  readonly external: ReadonlyArray<ExternalRequirement & { readonly tagObject: AnyTag }>
  /** tag key -> providing task index */
  readonly providerByKey: ReadonlyMap<string, number>
  /** topological layers (computed on first access) */
  readonly layers: ReadonlyArray<ReadonlyArray<number>>
  readonly dataEdges: ReadonlyArray<DataEdge>
  readonly precedenceEdges: ReadonlyArray<PrecedenceEdge>
  /** every pool any task uses, with the largest weight asked of it */
  readonly poolWeights: ReadonlyMap<string, { readonly max: number; readonly task: string }>
}

/** A growable Int32Array (amortised doubling). */
class IntBuffer {
  items = new Int32Array(16)
  length = 0
  push(value: number) {
    if (this.length === this.items.length) {
      const grown = new Int32Array(this.items.length * 2)
      grown.set(this.items)
      this.items = grown
    }
    this.items[this.length++] = value
  }
  done(): Int32Array {
    return this.items.slice(0, this.length)
  }
}

/** The reverse of `rows` (n rows), each row in increasing index order. */
const reverse = (rows: Rows, n: number): Rows => {
  const count = new Int32Array(n + 1)
  const items = rows.items
  for (let k = 0; k < items.length; k++) count[items[k]! + 1]!++
  for (let i = 0; i < n; i++) count[i + 1]! += count[i]!
  const start = count.slice()
  const out = new Int32Array(items.length)
  const fill = count // reused as the write cursor of each row
  for (let j = 0; j < n; j++) {
    for (let k = rows.start[j]!, end = rows.start[j + 1]!; k < end; k++) out[fill[items[k]!]!++] = j
  }
  return { start, items: out }
}

/**
 * Kahn's algorithm: how many tasks can be placed, in which (topological)
 * order, and what still waits (`remaining[i] > 0` for the tasks on or behind
 * a cycle). `onLayer` sees each layer of tasks whose waits are all placed.
 */
const kahn = (waitsFor: Rows, dependents: Rows, n: number, onLayer?: (layer: Array<number>) => void) => {
  const remaining = new Int32Array(n)
  const queue = new Int32Array(n)
  let tail = 0
  for (let i = 0; i < n; i++) {
    remaining[i] = waitsFor.start[i + 1]! - waitsFor.start[i]!
    if (remaining[i] === 0) queue[tail++] = i
  }
  let head = 0
  while (head < tail) {
    const layerEnd = tail
    if (onLayer !== undefined) onLayer(Array.from(queue.subarray(head, layerEnd)))
    for (; head < layerEnd; head++) {
      const i = queue[head]!
      for (let k = dependents.start[i]!, end = dependents.start[i + 1]!; k < end; k++) {
        const j = dependents.items[k]!
        if (--remaining[j]! === 0) queue[tail++] = j
      }
    }
  }
  return { placed: tail, remaining, order: queue }
}

/** Per task: the number of tasks on the longest path from it to the end of the graph, itself included. */
const heights = (order: Int32Array, dependents: Rows, n: number): Int32Array => {
  const height = new Int32Array(n)
  for (let o = n - 1; o >= 0; o--) {
    const i = order[o]!
    let tallest = 0
    for (let k = dependents.start[i]!, end = dependents.start[i + 1]!; k < end; k++) {
      const h = height[dependents.items[k]!]!
      if (h > tallest) tallest = h
    }
    height[i] = tallest + 1
  }
  return height
}

/** @internal */
export const compile = (source: GraphSource): Either.Either<CompiledPlan, GraphError.GraphError> => {
  const tasks = source.tasks
  if (!Array.isArray(tasks)) return Either.left(notAnArray(source.name, tasks))
  const builder = new PlanBuilder(source, tasks)
  const error = builder.indexTasks() ??
    (source.precedences.length > 0 ? builder.groupPrecedences() : undefined) ??
    builder.edges()
  return error === undefined ? builder.finish() : Either.left(error)
}

/**
 * The passes of `compile`, one method each, over state they share. A class for the first run's sake:
 * V8 compiles a function's whole body the first time it is called but a method only when it is
 * called, and most graphs never reach most of this (precedences, `requires`, `after`, pools, the
 * errors). As one 12 KB function it was the largest single compile of a one-task run; split, this
 * file's compile time in that run went from 0.62 to 0.45 ms as logged by `node --log-function-events`
 * (which inflates it), and the run itself within noise (bench/README.md, "Fifth round").
 */
class PlanBuilder {
  private readonly n: number
  private readonly indexByName = new Map<string, number>()
  private readonly providerByKey = new Map<string, number>()
  private anyAfter: boolean
  private anyContext = false
  // graph-level precedences, grouped by the task that waits (rare: a Map, not an array per task)
  private readonly precedencePairs: Array<number> = []
  private readonly extraWaits = new Map<number, Array<number>>()
  private readonly external = new Map<string, { tagObject: AnyTag; requiredBy: Array<string> }>()
  private readonly poolWeights = new Map<string, { max: number; task: string }>()
  private readonly dataStart: Int32Array
  private readonly dataItems = new IntBuffer()
  // aligned with dataItems: the scheduler reads the key here rather than through task -> tag -> key,
  // three dependent loads that miss the cache on a large graph with scattered edges
  private readonly dataKeys: Array<string> = []
  private dataPicks: IntBuffer | undefined = undefined
  // a task may take two tags from one Context-publishing provider: two data edges, but one wait
  private separateWaits = false
  private waitStart: Int32Array
  private waitItems: IntBuffer
  // stamp[j] === i + 1 marks j as already counted for task i: no quadratic `includes` on wide fan-ins
  private readonly stamp: Int32Array

  constructor(private readonly source: GraphSource, private readonly tasks: ReadonlyArray<Task.Any>) {
    const n = tasks.length
    this.n = n
    this.anyAfter = source.precedences.length > 0
    this.dataStart = new Int32Array(n + 1)
    this.waitStart = this.dataStart
    this.waitItems = this.dataItems
    this.stamp = new Int32Array(n)
  }

  /** Names and providers in one pass over the tasks (on a large graph each pass is mostly cache misses). */
  indexTasks(): GraphError.GraphError | undefined {
    const tasks = this.tasks
    const indexByName = this.indexByName
    for (let i = 0, n = this.n; i < n; i++) {
      const task = tasks[i]!
      // what the types guarantee, checked for JavaScript callers and casts (a few loads a task)
      if (!InternalTask.isTask(task) || typeof task.name !== "string" || task.name === "" || !Effect.isEffect(task.run)) {
        return malformed(task, i)
      }
      if (task.timeout !== undefined || task.retry !== undefined) {
        const bad = badTiming(task)
        if (bad !== undefined) return bad
      }
      // one hash lookup, not has + set: a name already there leaves the size as it was
      const size = indexByName.size
      indexByName.set(task.name, i)
      if (indexByName.size === size) return duplicate(tasks, i)
      InternalTask.notePosition(task, i)
      if (task.after.length > 0) this.anyAfter = true
      if (task.publishes === "context") this.anyContext = true
      if (task.provides.length > 0) {
        const bad = this.addProviders(task, i)
        if (bad !== undefined) return bad
      }
    }
    if (this.anyContext) this.dataPicks = new IntBuffer()
    if (this.anyAfter || this.anyContext) {
      this.separateWaits = true
      this.waitStart = new Int32Array(this.n + 1)
      this.waitItems = new IntBuffer()
    }
    return undefined
  }

  private addProviders(task: Task.Any, i: number): GraphError.GraphError | undefined {
    const provides = task.provides
    const providerByKey = this.providerByKey
    for (let p = 0; p < provides.length; p++) {
      const tag = provides[p]!
      if (typeof tag?.key !== "string") return notATag(task, "provides", tag)
      const other = providerByKey.get(tag.key)
      if (other !== undefined) return providedTwice(this.tasks, other, i, tag.key)
      providerByKey.set(tag.key, i)
    }
    return undefined
  }

  /** task -> index: the position noted on the task (internal/task.ts), else through its (unique) name */
  private indexOf(task: Task.Any): number | undefined {
    const noted = InternalTask.positionIn(task, this.tasks)
    if (noted !== undefined) return noted
    if (!InternalTask.isTask(task)) return undefined
    const i = this.indexByName.get(task.name)
    return i !== undefined && this.tasks[i] === task ? i : undefined
  }

  /** Whether a task of this graph has `task`'s name (for an error: it is another task with that name). */
  private hasName(task: Task.Any): boolean {
    return InternalTask.isTask(task) && this.indexByName.has(task.name)
  }

  groupPrecedences(): GraphError.GraphError | undefined {
    for (const [a, b] of this.source.precedences) {
      if (!InternalTask.isTask(a) || !InternalTask.isTask(b)) return notTasksInPrecedence(this.source.name, a, b)
      const i = this.indexOf(a)
      const j = this.indexOf(b)
      const label = `${a.name} before ${b.name}`
      if (i === undefined) return unknownInPrecedence(a, label, this.hasName(a))
      if (j === undefined) return unknownInPrecedence(b, label, this.hasName(b))
      if (i === j) return new GraphError.SelfDependencyError({ task: a.name, via: "precedence" })
      const list = this.extraWaits.get(j)
      if (list === undefined) this.extraWaits.set(j, [i])
      else list.push(i)
    }
    return undefined
  }

  /** Per task: its data edges, then everything it waits for, then its pools. */
  edges(): GraphError.GraphError | undefined {
    const tasks = this.tasks
    const dataStart = this.dataStart
    const dataItems = this.dataItems
    for (let i = 0, n = this.n; i < n; i++) {
      const task = tasks[i]!
      if (task.requires.length > 0) {
        const bad = this.addRequirements(task, i)
        if (bad !== undefined) return bad
      }
      dataStart[i + 1] = dataItems.length
      if (this.separateWaits) {
        const bad = this.addWaits(task, i)
        if (bad !== undefined) return bad
      }
      if (task.pools !== noPools) {
        const bad = this.addPools(task)
        if (bad !== undefined) return bad
      }
    }
    return undefined
  }

  private addRequirements(task: Task.Any, i: number): GraphError.GraphError | undefined {
    const requires = task.requires
    const tasks = this.tasks
    const dataItems = this.dataItems
    const dataKeys = this.dataKeys
    const dataPicks = this.dataPicks
    const stamp = this.stamp
    for (let r = 0; r < requires.length; r++) {
      const tag = requires[r]!
      if (typeof tag?.key !== "string") return notATag(task, "requires", tag)
      const provider = this.providerByKey.get(tag.key)
      if (provider === i) return new GraphError.SelfDependencyError({ task: task.name, via: tag.key })
      if (provider === undefined) {
        const entry = this.external.get(tag.key)
        if (entry === undefined) this.external.set(tag.key, { tagObject: tag, requiredBy: [task.name] })
        else entry.requiredBy.push(task.name)
        continue
      }
      if (stamp[provider] === i + 1) {
        // a second tag of the same Context-publishing provider: its own edge (its own key), one holder
        if (dataPicks === undefined || tasks[provider]!.publishes !== "context") continue
        let seen = false
        for (let k = this.dataStart[i]!; k < dataItems.length; k++) {
          if (dataItems.items[k] === provider && dataKeys[k] === tag.key) seen = true
        }
        if (seen) continue
      }
      stamp[provider] = i + 1
      dataItems.push(provider)
      dataKeys.push(tag.key)
      if (dataPicks !== undefined) dataPicks.push(tasks[provider]!.publishes === "context" ? 1 : 0)
    }
    return undefined
  }

  /** waitsFor: the data dependencies, then `after`, then graph-level precedences (distinct) */
  private addWaits(task: Task.Any, i: number): GraphError.GraphError | undefined {
    const dataStart = this.dataStart
    const dataItems = this.dataItems
    const dataPicks = this.dataPicks
    const waitItems = this.waitItems
    const stamp = this.stamp
    for (let k = dataStart[i]!; k < dataStart[i + 1]!; k++) {
      const d = dataItems.items[k]!
      if (dataPicks !== undefined && dataPicks.items[k] === 1) {
        let seen = false
        for (let w = this.waitStart[i]!; w < waitItems.length; w++) if (waitItems.items[w] === d) seen = true
        if (seen) continue
      }
      waitItems.push(d)
    }
    const after = task.after
    for (let a = 0; a < after.length; a++) {
      const before = after[a]!
      const j = this.indexOf(before)
      if (j === undefined) return notInGraph(task, a, before, this.hasName(before))
      if (j === i) return new GraphError.SelfDependencyError({ task: task.name, via: "after" })
      this.precedencePairs.push(j, i)
      if (stamp[j] === i + 1) continue
      stamp[j] = i + 1
      waitItems.push(j)
    }
    const extra = this.extraWaits.get(i)
    if (extra !== undefined) {
      for (const j of extra) {
        this.precedencePairs.push(j, i)
        if (stamp[j] === i + 1) continue
        stamp[j] = i + 1
        waitItems.push(j)
      }
    }
    this.waitStart[i + 1] = waitItems.length
    return undefined
  }

  private addPools(task: Task.Any): GraphError.GraphError | undefined {
    const pools = task.pools
    for (const pool in pools) {
      const weight = pools[pool]!
      if (!Number.isInteger(weight) || weight <= 0) return badPoolWeight(task, pool, weight)
      const seen = this.poolWeights.get(pool)
      if (seen === undefined || seen.max < weight) this.poolWeights.set(pool, { max: weight, task: task.name })
    }
    return undefined
  }

  finish(): Either.Either<CompiledPlan, GraphError.GraphError> {
    const n = this.n
    const dataDeps: Rows = { start: this.dataStart, items: this.dataItems.done() }
    const waitsFor: Rows = this.separateWaits ? { start: this.waitStart, items: this.waitItems.done() } : dataDeps
    const dependents = reverse(waitsFor, n)
    const holders = new Int32Array(n)
    for (let k = 0; k < dataDeps.items.length; k++) holders[dataDeps.items[k]!]!++
    const { order, placed, remaining } = kahn(waitsFor, dependents, n)
    if (placed < n) return Either.left(new GraphError.CycleError({ path: findCycle(remaining, waitsFor, this.tasks) }))
    return Either.right(
      new Plan(
        this.source,
        dataDeps,
        this.dataKeys,
        this.dataPicks === undefined ? undefined : Uint8Array.from(this.dataPicks.done()),
        waitsFor,
        dependents,
        holders,
        heights(order, dependents, n),
        Array.from(this.external, ([tag, { requiredBy, tagObject }]) => ({ tag, requiredBy, tagObject })),
        this.providerByKey,
        this.precedencePairs,
        this.poolWeights
      )
    )
  }
}

/** A compiled plan; what only reports and pictures read is computed on first access. */
class Plan implements CompiledPlan {
  readonly n: number
  readonly tasks: ReadonlyArray<Task.Any>
  private taskNames: Array<string> | undefined = undefined
  private layerList: Array<Array<number>> | undefined = undefined
  private dataEdgeList: Array<DataEdge> | undefined = undefined
  private precedenceEdgeList: Array<PrecedenceEdge> | undefined = undefined

  constructor(
    readonly source: GraphSource,
    readonly dataDeps: Rows,
    readonly dataKeys: ReadonlyArray<string>,
    readonly dataPicks: Uint8Array | undefined,
    readonly waitsFor: Rows,
    readonly dependents: Rows,
    readonly holders: Int32Array,
    readonly height: Int32Array,
    readonly external: CompiledPlan["external"],
    readonly providerByKey: ReadonlyMap<string, number>,
    /** before, after, before, after, …: one pair per `after` item and graph-level precedence */
    private readonly precedencePairs: ReadonlyArray<number>,
    readonly poolWeights: CompiledPlan["poolWeights"]
  ) {
    this.n = source.tasks.length
    this.tasks = source.tasks
  }

  get names(): ReadonlyArray<string> {
    return this.taskNames ??= this.tasks.map((t) => t.name)
  }

  get layers(): ReadonlyArray<ReadonlyArray<number>> {
    if (this.layerList === undefined) {
      const found: Array<Array<number>> = []
      kahn(this.waitsFor, this.dependents, this.n, (layer) => found.push(layer))
      this.layerList = found
    }
    return this.layerList
  }

  get dataEdges(): ReadonlyArray<DataEdge> {
    if (this.dataEdgeList === undefined) {
      const edges: Array<DataEdge> = []
      const names = this.names
      const { items, start } = this.dataDeps
      for (let i = 0; i < this.n; i++) {
        for (let k = start[i]!; k < start[i + 1]!; k++) edges.push({ from: names[items[k]!]!, to: names[i]!, tag: this.dataKeys[k]! })
      }
      this.dataEdgeList = edges
    }
    return this.dataEdgeList
  }

  get precedenceEdges(): ReadonlyArray<PrecedenceEdge> {
    if (this.precedenceEdgeList === undefined) {
      const edges: Array<PrecedenceEdge> = []
      const names = this.names
      const pairs = this.precedencePairs
      for (let k = 0; k < pairs.length; k += 2) edges.push({ before: names[pairs[k]!]!, after: names[pairs[k + 1]!]! })
      this.precedenceEdgeList = edges
    }
    return this.precedenceEdgeList
  }
}

/**
 * Among the tasks Kahn's algorithm could not place (remaining > 0), walk
 * "waits for" edges until a task repeats: that loop is a cycle. Reported in
 * execution order: `a -> b` means a must finish before b.
 */
const findCycle = (remaining: Int32Array, waitsFor: Rows, tasks: ReadonlyArray<Task.Any>): Array<string> => {
  let start = remaining.findIndex((r) => r > 0)
  const seenAt = new Map<number, number>()
  const walk: Array<number> = []
  while (!seenAt.has(start)) {
    seenAt.set(start, walk.length)
    walk.push(start)
    // every unplaced task waits for at least one other unplaced task
    start = rowOf(waitsFor, start).find((j) => remaining[j]! > 0)!
  }
  const loop = walk.slice(seenAt.get(start)!)
  loop.push(start)
  // walk followed "waits for" edges (b waits for a); reverse to read in execution order
  return loop.reverse().map((i) => tasks[i]!.name)
}

/** A value as an error message names it. */
const describe = (u: unknown): string =>
  u === undefined
    ? "undefined"
    : u === null
    ? "null"
    : typeof u === "string"
    ? `the string ${JSON.stringify(u)}`
    : typeof u === "function"
    ? "a function"
    : Effect.isEffect(u)
    ? "an Effect"
    : typeof u === "object"
    ? "an object"
    : `${typeof u} ${String(u)}`

/** What is wrong with a task that is not one, has no usable name, or no Effect to run. */
const malformed = (task: unknown, i: number): GraphError.GraphError => {
  if (!InternalTask.isTask(task)) {
    return new GraphError.InvalidOptionError({
      option: `task #${i} of the graph`,
      reason: `${describe(task)} is not a task: make tasks with Task.make`
    })
  }
  if (typeof task.name !== "string" || task.name === "") {
    return new GraphError.InvalidOptionError({
      option: `name of task #${i}`,
      reason: `must be a non-empty string (it names the task in events, logs and reports), got ${
        task.name === "" ? "an empty string" : describe(task.name)
      }`
    })
  }
  if (task.run instanceof InternalTask.NotAFunction) {
    return new GraphError.InvalidOptionError({
      option: `run of task "${task.name}"`,
      reason: `must be a function (${task.run.maker} calls it), got ${describe(task.run.given)}; for an Effect use Task.make`
    })
  }
  return new GraphError.InvalidOptionError({
    option: `run of task "${task.name}"`,
    reason: typeof task.run === "function"
      ? "must be an Effect, got a function: pass the effect itself (e.g. Effect.sync(f) or Effect.promise(f)), not f"
      : `must be an Effect, got ${describe(task.run)}`
  })
}

/** A `timeout` that is not a duration, or a `retry` that is not a `Schedule`. */
const badTiming = (task: Task.Any): GraphError.GraphError | undefined => {
  if (task.timeout !== undefined) {
    const timeout = Duration.decodeUnknown(task.timeout)
    if (Option.isNone(timeout)) {
      return new GraphError.InvalidOptionError({
        option: `timeout of task "${task.name}"`,
        reason: `must be a duration ("10 seconds", Duration.minutes(2), a number of milliseconds), got ${
          describe(task.timeout)
        }`
      })
    }
    // Effect reads a negative or NaN duration as zero: a task that could never finish in time
    if (Duration.lessThanOrEqualTo(timeout.value, Duration.zero)) {
      return new GraphError.InvalidOptionError({
        option: `timeout of task "${task.name}"`,
        reason: `must be longer than zero, got ${describe(task.timeout)}: leave it out for no timeout`
      })
    }
  }
  if (task.retry !== undefined && !Schedule.isSchedule(task.retry)) {
    return new GraphError.InvalidOptionError({
      option: `retry of task "${task.name}"`,
      reason: `must be a Schedule (e.g. Schedule.recurs(2)), got ${describe(task.retry)}`
    })
  }
  return undefined
}

/** Task i's name was seen before: the same task listed again, or another task with its name. */
const duplicate = (tasks: ReadonlyArray<Task.Any>, i: number): GraphError.GraphError => {
  const task = tasks[i]!
  const listedTwice = tasks.slice(0, i).includes(task)
  return new GraphError.DuplicateTaskError({ task: task.name, ...(listedTwice ? { listedTwice } : {}) })
}

/** An item of `provides` or `requires` that is not a `Context.Tag`. */
const notATag = (task: Task.Any, option: "provides" | "requires", tag: unknown): GraphError.GraphError =>
  new GraphError.InvalidOptionError({
    option: `${option} of task "${task.name}"`,
    reason: `${describe(tag)} is not a Context.Tag: list tags (class Db extends Context.Tag("Db")<Db, …>() {})`
  })


/** `tasks` of a graph that is not an array. */
const notAnArray = (graph: string, tasks: unknown): GraphError.GraphError =>
  new GraphError.InvalidOptionError({
    option: `tasks of graph "${graph}"`,
    reason: `must be an array of tasks made with Task.make, got ${describe(tasks)}`
  })

/** A tag provided by two tasks, or listed twice by one. */
const providedTwice = (tasks: ReadonlyArray<Task.Any>, other: number, i: number, key: string): GraphError.GraphError =>
  other === i
    ? new GraphError.InvalidOptionError({
      option: `provides of task "${tasks[i]!.name}"`,
      reason: `it lists "${key}" twice; list each tag once`
    })
    : new GraphError.DuplicateProviderError({ tag: key, providers: [tasks[other]!.name, tasks[i]!.name] })

/** A side of a graph-level precedence that is not a task of the graph. */
const unknownInPrecedence = (task: Task.Any, label: string, sameName: boolean): GraphError.GraphError =>
  new GraphError.UnknownTaskError({ task: task.name, referencedBy: label, via: "precedence", ...(sameName ? { sameName } : {}) })

/** A graph-level precedence whose sides are not both tasks. */
const notTasksInPrecedence = (graph: string, a: unknown, b: unknown): GraphError.GraphError =>
  new GraphError.InvalidOptionError({
    option: `precedence of graph "${graph}"`,
    reason: `both sides must be tasks made with Task.make, got ${describe(a)} before ${describe(b)}`
  })

/** Item `a` of a task's `after` that is not a task of this graph. */
const notInGraph = (task: Task.Any, a: number, before: Task.Any, sameName: boolean): GraphError.GraphError =>
  InternalTask.isTask(before)
    ? new GraphError.UnknownTaskError({ task: before.name, referencedBy: task.name, via: "after", ...(sameName ? { sameName } : {}) })
    : new GraphError.InvalidOptionError({
      option: `after of task "${task.name}"`,
      reason: `item ${a} is ${describe(before)}, not a task: list tasks made with Task.make`
    })

/** A pool weight that is not a positive integer. */
const badPoolWeight = (task: Task.Any, pool: string, weight: number): GraphError.GraphError =>
  new GraphError.InvalidOptionError({
    option: `pool weight of "${pool}" in task "${task.name}"`,
    reason: `must be a positive integer, got ${weight}`
  })
