/**
 * A run's hooks and loggers: how what a task prints or logs reaches the
 * run's events, with the task's name on it.
 *
 * - `hooksClass` makes the class of the hooks object the scheduler puts in
 *   each task's context (`taskHooks.ts`): `Task.output` and `Task.watch`
 *   reach the right task through it.
 * - `fiberRefs` adjusts the caller's loggers once per run, not per task: they
 *   add `task=<name>` to the annotations of every line logged inside a task
 *   (found through the hooks in the fiber's context) and, when events are
 *   recorded, send those lines to the events as `log` output.
 *
 * @internal
 */
import type { Cause } from "effect"
import { FiberId, FiberRef, FiberRefs, HashMap, HashSet, Logger } from "effect"
import type { OutputStream, TaskHooks } from "./taskHooks.js"
import { hooksFrom } from "./taskHooks.js"

/** Where the hooks of a run's tasks send what they get. @internal */
export interface HooksTarget {
  /** A line of output of task `name` (only called when events are recorded). */
  readonly output: (name: string, stream: OutputStream, line: string) => void
  /** A watcher of task i failed. */
  readonly watcherFailed: (i: number, cause: Cause.Cause<unknown>) => void
}

/** The hooks of one task: `new (hooksClass(target))(index, name)`. @internal */
export interface TaskHooksOf extends TaskHooks {
  readonly index: number
}

/**
 * The class of a run's task hooks. `output` is `undefined` when the run does
 * not record events: a line then costs nothing.
 *
 * @internal
 */
export const hooksClass = (target: {
  readonly output: HooksTarget["output"] | undefined
  readonly watcherFailed: HooksTarget["watcherFailed"]
}): new(index: number, name: string) => TaskHooksOf => {
  const output = target.output
  const watcherFailed = target.watcherFailed
  // `declare`d fields: a field declaration would cost a defineProperty per task (measured in profiles)
  return class Hooks implements TaskHooksOf {
    declare readonly index: number
    declare readonly name: string
    constructor(index: number, name: string) {
      this.index = index
      this.name = name
    }
    output(stream: OutputStream, line: string) {
      if (output !== undefined) output(this.name, stream, line)
    }
    watcherFailed(cause: Cause.Cause<unknown>) {
      watcherFailed(this.index, cause)
    }
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
  const taskLoggers = HashSet.map(
    FiberRefs.getOrDefault(refs, FiberRef.currentLoggers),
    (logger) => Logger.mapInputOptions(logger, annotateWithTask)
  )
  return FiberRefs.updateAs(refs, {
    fiberId: ownerId,
    fiberRef: FiberRef.currentLoggers,
    value: toEvents ? HashSet.add(taskLoggers, eventLogger) : taskLoggers
  })
}

const hooksOf = (fiberRefs: FiberRefs.FiberRefs) =>
  hooksFrom(FiberRefs.getOrDefault(fiberRefs, FiberRef.currentContext), fiberRefs)

/** Adds `task=<name>` to the annotations of a line logged inside a task. @internal */
export const annotateWithTask = <A>(options: Logger.Logger.Options<A>): Logger.Logger.Options<A> => {
  const hooks = hooksOf(options.context)
  if (hooks === undefined || HashMap.has(options.annotations, "task")) return options
  return { ...options, annotations: HashMap.set(options.annotations, "task", hooks.name) }
}

/** Sends `Effect.log` lines of a task to its output events. @internal */
export const eventLogger = Logger.make<unknown, void>(({ context, message }) => {
  const hooks = hooksOf(context)
  if (hooks === undefined) return
  const parts = Array.isArray(message) ? message : [message]
  hooks.output("log", parts.map((p) => (typeof p === "string" ? p : JSON.stringify(p))).join(" "))
})
