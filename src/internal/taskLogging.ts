/**
 * A run's hooks and loggers: how what a task prints or logs reaches the
 * run's events, with the task's name on it.
 *
 * - `hooksMaker` makes the hooks object the scheduler puts in each task's
 *   context (`taskHooks.ts`): `Task.output` and `Task.watch` reach the right
 *   task through it.
 * - `fiberRefs` adjusts the caller's loggers once per run, not per task: they
 *   add `task=<name>` to the annotations of every line logged inside a task
 *   (found through the hooks in the fiber's context) and, when events are
 *   recorded, send those lines to the events as `log` output.
 *
 * @internal
 */
import type { Cause, LogLevel as LogLevelValue } from "effect"
import { FiberId, FiberRef, FiberRefs, HashMap, HashSet, Logger } from "effect"
import { safeJson } from "./errorText.js"
import type { NestPoint } from "./nesting.js"
import type { LogLevel, OutputStream, TaskHooks } from "./taskHooks.js"
import { hooksFrom } from "./taskHooks.js"

/** Where the hooks of a run's tasks send what they get. @internal */
export interface HooksTarget {
  /** A line of output of task `name` (only called when events are recorded); `level` for an `Effect.log`. */
  readonly output: (name: string, stream: OutputStream, line: string, level: LogLevel | undefined) => void
  /** A watcher of task i failed. */
  readonly watcherFailed: (i: number, cause: Cause.Cause<unknown>) => void
  /** What a child run started inside task i shares with the run. */
  readonly nest: (i: number) => NestPoint
}

/** The hooks of one task: `hooksMaker(target)(index, name)`. @internal */
export interface TaskHooksOf extends TaskHooks {
  readonly index: number
}

/**
 * The maker of a run's task hooks. `output` is `undefined` when the run does
 * not record events: a line then costs nothing.
 *
 * All runs share one class (`Hooks` below): a class made per run gave each
 * run's hooks a hidden class of their own, so the code reading them never
 * settled, and making the class cost ~35 µs a run (profiled, bench/README.md).
 *
 * @internal
 */
export const hooksMaker = (target: {
  readonly output: HooksTarget["output"] | undefined
  readonly watcherFailed: HooksTarget["watcherFailed"]
  readonly nest?: HooksTarget["nest"] | undefined
}): (index: number, name: string) => TaskHooksOf =>
(index, name) => new Hooks(target, index, name)

// `declare`d fields: a field declaration would cost a defineProperty per task (measured in profiles)
class Hooks implements TaskHooksOf {
  declare readonly target: Parameters<typeof hooksMaker>[0]
  declare readonly index: number
  declare readonly name: string
  constructor(target: Parameters<typeof hooksMaker>[0], index: number, name: string) {
    this.target = target
    this.index = index
    this.name = name
  }
  output(stream: OutputStream, line: string, level?: LogLevel) {
    const output = this.target.output
    if (output !== undefined) output(this.name, stream, line, level)
  }
  watcherFailed(cause: Cause.Cause<unknown>) {
    this.target.watcherFailed(this.index, cause)
  }
  nest(): NestPoint {
    const nest = this.target.nest
    if (nest === undefined) throw new Error("this run offers nothing to child runs")
    return nest(this.index)
  }
}

/**
 * The fiber refs every task fiber of a run starts with: the caller's, with
 * its loggers annotating lines with the task's name, and with `eventLogger`
 * added when `toEvents` (lines logged in a task become its `log` output).
 *
 * @internal
 */
export const fiberRefs = (refs: FiberRefs.FiberRefs, ownerId: FiberId.Runtime, toEvents: boolean): FiberRefs.FiberRefs => {
  return FiberRefs.updateAs(refs, {
    fiberId: ownerId,
    fiberRef: FiberRef.currentLoggers,
    value: taskLoggersOf(FiberRefs.getOrDefault(refs, FiberRef.currentLoggers), toEvents)
  })
}

type Loggers = HashSet.HashSet<Logger.Logger<unknown, unknown>>
/**
 * The loggers of a run's tasks, by the caller's loggers. Almost every run has the same set (Effect's
 * default logger); mapping it costs ~30 µs a run (each new logger is hashed into a new set, measured).
 * The result depends on the input set only, so it is made once per set (held weakly by it).
 */
const taskLoggersCache = new WeakMap<Loggers, { plain?: Loggers; withEvents?: Loggers }>()
const taskLoggersOf = (loggers: Loggers, toEvents: boolean): Loggers => {
  let entry = taskLoggersCache.get(loggers)
  if (entry === undefined) taskLoggersCache.set(loggers, entry = {})
  // a run inside a task starts from its task's loggers, which hold the enclosing run's `eventLogger`:
  // kept as it is (it finds the inner task through the hooks), never wrapped into a second copy that
  // would send every logged line of the inner task twice
  const plain = entry.plain ??= HashSet.map(loggers, (logger) =>
    logger === eventLogger ? logger : Logger.mapInputOptions(logger, annotateWithTask))
  return toEvents ? (entry.withEvents ??= HashSet.add(plain, eventLogger)) : plain
}

const hooksOf = (fiberRefs: FiberRefs.FiberRefs) =>
  hooksFrom(FiberRefs.getOrDefault(fiberRefs, FiberRef.currentContext), fiberRefs)

/** Adds `task=<name>` to the annotations of a line logged inside a task. @internal */
export const annotateWithTask = <A>(options: Logger.Logger.Options<A>): Logger.Logger.Options<A> => {
  const hooks = hooksOf(options.context)
  if (hooks === undefined || HashMap.has(options.annotations, "task")) return options
  return { ...options, annotations: HashMap.set(options.annotations, "task", hooks.name) }
}

/** A line's `LogLevel` as the events store it (`All` and `None` are filters, not a line's level). @internal */
export const levelOf = (level: LogLevelValue.LogLevel): LogLevel | undefined =>
  level._tag === "All" || level._tag === "None" ? undefined : level._tag

/**
 * The text of a logged message as an output line: its parts joined by spaces, values as JSON (a safe
 * one: a logged value holding a bigint or a cycle must not fail the task that logs it). @internal
 */
export const lineOf = (message: unknown): string => {
  const parts = Array.isArray(message) ? message : [message]
  return parts.map((p) => (typeof p === "string" ? p : safeJson(p))).join(" ")
}

/** Sends `Effect.log` lines of a task to its output events. @internal */
export const eventLogger = Logger.make<unknown, void>(({ context, logLevel, message }) => {
  const hooks = hooksOf(context)
  if (hooks === undefined) return
  hooks.output("log", lineOf(message), levelOf(logLevel))
})
