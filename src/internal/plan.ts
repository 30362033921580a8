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
  if (!Array.isArray(tasks)) {
    return Either.left(
      new GraphError.InvalidOptionError({
        option: `tasks of graph "${source.name}"`,
        reason: `must be an array of tasks made with Task.make, got ${describe(tasks)}`
      })
    )
  }
  const n = tasks.length
  // names and providers in one pass over the tasks (on a large graph each pass is mostly cache misses)
  const indexByName = new Map<string, number>()
  const providerByKey = new Map<string, number>()
  let anyAfter = source.precedences.length > 0
  let anyContext = false
  for (let i = 0; i < n; i++) {
    const task = tasks[i]!
    // what the types guarantee, checked for JavaScript callers and casts (a few loads a task)
    if (!InternalTask.isTask(task) || typeof task.name !== "string" || task.name === "" || !Effect.isEffect(task.run)) {
      return Either.left(malformed(task, i))
    }
    if (task.timeout !== undefined || task.retry !== undefined) {
      const bad = badTiming(task)
      if (bad !== undefined) return Either.left(bad)
    }
    // one hash lookup, not has + set: a name already there leaves the size as it was
    const size = indexByName.size
    indexByName.set(task.name, i)
    if (indexByName.size === size) return Either.left(new GraphError.DuplicateTaskError({ task: task.name }))
    InternalTask.notePosition(task, i)
    if (task.after.length > 0) anyAfter = true
    const provides = task.provides
    if (task.publishes === "context") anyContext = true
    for (let p = 0; p < provides.length; p++) {
      const tag = provides[p]!
      if (typeof tag?.key !== "string") return Either.left(notATag(task, "provides", tag))
      const other = providerByKey.get(tag.key)
      if (other !== undefined) {
        return Either.left(
          other === i
            ? new GraphError.InvalidOptionError({
              option: `provides of task "${task.name}"`,
              reason: `it lists "${tag.key}" twice; list each tag once`
            })
            : new GraphError.DuplicateProviderError({ tag: tag.key, providers: [tasks[other]!.name, task.name] })
        )
      }
      providerByKey.set(tag.key, i)
    }
  }
  // task -> index: the position noted on the task (internal/task.ts), else through its (unique) name
  const indexOf = (task: Task.Any): number | undefined => {
    const noted = InternalTask.positionIn(task, tasks)
    if (noted !== undefined) return noted
    if (!InternalTask.isTask(task)) return undefined
    const i = indexByName.get(task.name)
    return i !== undefined && tasks[i] === task ? i : undefined
  }

  // graph-level precedences, grouped by the task that waits (rare: a Map, not an array per task)
  const precedencePairs: Array<number> = []
  const extraWaits = new Map<number, Array<number>>()
  for (const [a, b] of source.precedences) {
    if (!InternalTask.isTask(a) || !InternalTask.isTask(b)) {
      return Either.left(
        new GraphError.InvalidOptionError({
          option: `precedence of graph "${source.name}"`,
          reason: `both sides must be tasks made with Task.make, got ${describe(a)} before ${describe(b)}`
        })
      )
    }
    const i = indexOf(a)
    const j = indexOf(b)
    const label = `${a.name} before ${b.name}`
    if (i === undefined) {
      return Either.left(new GraphError.UnknownTaskError({ task: a.name, referencedBy: label, via: "precedence" }))
    }
    if (j === undefined) {
      return Either.left(new GraphError.UnknownTaskError({ task: b.name, referencedBy: label, via: "precedence" }))
    }
    if (i === j) return Either.left(new GraphError.SelfDependencyError({ task: a.name, via: "after" }))
    const list = extraWaits.get(j)
    if (list === undefined) extraWaits.set(j, [i])
    else list.push(i)
  }

  const external = new Map<string, { tagObject: AnyTag; requiredBy: Array<string> }>()
  const poolWeights = new Map<string, { max: number; task: string }>()
  const dataStart = new Int32Array(n + 1)
  const dataItems = new IntBuffer()
  // aligned with dataItems: the scheduler reads the key here rather than through task -> tag -> key,
  // three dependent loads that miss the cache on a large graph with scattered edges
  const dataKeys: Array<string> = []
  const dataPicks = anyContext ? new IntBuffer() : undefined
  // a task may take two tags from one Context-publishing provider: two data edges, but one wait
  const separateWaits = anyAfter || anyContext
  const waitStart = separateWaits ? new Int32Array(n + 1) : dataStart
  const waitItems = separateWaits ? new IntBuffer() : dataItems

  // stamp[j] === i + 1 marks j as already counted for task i: no quadratic `includes` on wide fan-ins
  const stamp = new Int32Array(n)
  for (let i = 0; i < n; i++) {
    const task = tasks[i]!
    const requires = task.requires
    for (let r = 0; r < requires.length; r++) {
      const tag = requires[r]!
      if (typeof tag?.key !== "string") return Either.left(notATag(task, "requires", tag))
      const provider = providerByKey.get(tag.key)
      if (provider === i) return Either.left(new GraphError.SelfDependencyError({ task: task.name, via: tag.key }))
      if (provider === undefined) {
        const entry = external.get(tag.key)
        if (entry === undefined) external.set(tag.key, { tagObject: tag, requiredBy: [task.name] })
        else entry.requiredBy.push(task.name)
        continue
      }
      if (stamp[provider] === i + 1) {
        // a second tag of the same Context-publishing provider: its own edge (its own key), one holder
        if (dataPicks === undefined || tasks[provider]!.publishes !== "context") continue
        let seen = false
        for (let k = dataStart[i]!; k < dataItems.length; k++) {
          if (dataItems.items[k] === provider && dataKeys[k] === tag.key) seen = true
        }
        if (seen) continue
      }
      stamp[provider] = i + 1
      dataItems.push(provider)
      dataKeys.push(tag.key)
      if (dataPicks !== undefined) dataPicks.push(tasks[provider]!.publishes === "context" ? 1 : 0)
    }
    dataStart[i + 1] = dataItems.length
    if (separateWaits) {
      // waitsFor: the data dependencies, then `after`, then graph-level precedences (distinct)
      for (let k = dataStart[i]!; k < dataStart[i + 1]!; k++) {
        const d = dataItems.items[k]!
        if (dataPicks !== undefined && dataPicks.items[k] === 1) {
          let seen = false
          for (let w = waitStart[i]!; w < waitItems.length; w++) if (waitItems.items[w] === d) seen = true
          if (seen) continue
        }
        waitItems.push(d)
      }
      const after = task.after
      for (let a = 0; a < after.length; a++) {
        const before = after[a]!
        const j = indexOf(before)
        if (j === undefined && !InternalTask.isTask(before)) {
          return Either.left(
            new GraphError.InvalidOptionError({
              option: `after of task "${task.name}"`,
              reason: `item ${a} is ${describe(before)}, not a task: list tasks made with Task.make`
            })
          )
        }
        if (j === undefined) {
          return Either.left(new GraphError.UnknownTaskError({ task: before.name, referencedBy: task.name, via: "after" }))
        }
        if (j === i) return Either.left(new GraphError.SelfDependencyError({ task: task.name, via: "after" }))
        precedencePairs.push(j, i)
        if (stamp[j] === i + 1) continue
        stamp[j] = i + 1
        waitItems.push(j)
      }
      const extra = extraWaits.get(i)
      if (extra !== undefined) {
        for (const j of extra) {
          precedencePairs.push(j, i)
          if (stamp[j] === i + 1) continue
          stamp[j] = i + 1
          waitItems.push(j)
        }
      }
      waitStart[i + 1] = waitItems.length
    }
    const pools = task.pools
    if (pools !== noPools) {
      for (const pool in pools) {
        const weight = pools[pool]!
        if (!Number.isInteger(weight) || weight <= 0) {
          return Either.left(
            new GraphError.InvalidOptionError({
              option: `pool weight of "${pool}" in task "${task.name}"`,
              reason: `must be a positive integer, got ${weight}`
            })
          )
        }
        const seen = poolWeights.get(pool)
        if (seen === undefined || seen.max < weight) poolWeights.set(pool, { max: weight, task: task.name })
      }
    }
  }

  const dataDeps: Rows = { start: dataStart, items: dataItems.done() }
  const waitsFor: Rows = separateWaits ? { start: waitStart, items: waitItems.done() } : dataDeps
  const dependents = reverse(waitsFor, n)
  const holders = new Int32Array(n)
  for (let k = 0; k < dataDeps.items.length; k++) holders[dataDeps.items[k]!]!++

  const { order, placed, remaining } = kahn(waitsFor, dependents, n)
  if (placed < n) return Either.left(new GraphError.CycleError({ path: findCycle(remaining, waitsFor, tasks) }))
  const height = heights(order, dependents, n)

  let taskNames: Array<string> | undefined
  const namesOf = () => (taskNames ??= tasks.map((t) => t.name))
  let layers: Array<Array<number>> | undefined
  let dataEdges: Array<DataEdge> | undefined
  let precedenceEdges: Array<PrecedenceEdge> | undefined
  return Either.right({
    source,
    n,
    tasks,
    get names() {
      return namesOf()
    },
    dataDeps,
    dataKeys,
    dataPicks: dataPicks === undefined ? undefined : Uint8Array.from(dataPicks.done()),
    waitsFor,
    dependents,
    holders,
    height,
    external: Array.from(external, ([tag, { requiredBy, tagObject }]) => ({ tag, requiredBy, tagObject })),
    providerByKey,
    get layers() {
      if (layers === undefined) {
        const found: Array<Array<number>> = []
        kahn(waitsFor, dependents, n, (layer) => found.push(layer))
        layers = found
      }
      return layers
    },
    get dataEdges() {
      if (dataEdges === undefined) {
        dataEdges = []
        const nameOf = namesOf()
        for (let i = 0; i < n; i++) {
          for (let k = dataDeps.start[i]!; k < dataDeps.start[i + 1]!; k++) {
            const d = dataDeps.items[k]!
            dataEdges.push({ from: nameOf[d]!, to: nameOf[i]!, tag: dataKeys[k]! })
          }
        }
      }
      return dataEdges
    },
    get precedenceEdges() {
      if (precedenceEdges === undefined) {
        precedenceEdges = []
        const nameOf = namesOf()
        for (let k = 0; k < precedencePairs.length; k += 2) {
          precedenceEdges.push({ before: nameOf[precedencePairs[k]!]!, after: nameOf[precedencePairs[k + 1]!]! })
        }
      }
      return precedenceEdges
    },
    poolWeights
  })
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
  return new GraphError.InvalidOptionError({
    option: `run of task "${task.name}"`,
    reason: typeof task.run === "function"
      ? "must be an Effect, got a function: pass the effect itself (e.g. Effect.sync(f) or Effect.promise(f)), not f"
      : `must be an Effect, got ${describe(task.run)}`
  })
}

/** A `timeout` that is not a duration, or a `retry` that is not a `Schedule`. */
const badTiming = (task: Task.Any): GraphError.GraphError | undefined => {
  if (task.timeout !== undefined && Option.isNone(Duration.decodeUnknown(task.timeout))) {
    return new GraphError.InvalidOptionError({
      option: `timeout of task "${task.name}"`,
      reason: `must be a duration ("10 seconds", Duration.minutes(2), a number of milliseconds), got ${
        describe(task.timeout)
      }`
    })
  }
  if (task.retry !== undefined && !Schedule.isSchedule(task.retry)) {
    return new GraphError.InvalidOptionError({
      option: `retry of task "${task.name}"`,
      reason: `must be a Schedule (e.g. Schedule.recurs(2)), got ${describe(task.retry)}`
    })
  }
  return undefined
}

/** An item of `provides` or `requires` that is not a `Context.Tag`. */
const notATag = (task: Task.Any, option: "provides" | "requires", tag: unknown): GraphError.GraphError =>
  new GraphError.InvalidOptionError({
    option: `${option} of task "${task.name}"`,
    reason: `${describe(tag)} is not a Context.Tag: list tags (class Db extends Context.Tag("Db")<Db, …>() {})`
  })
