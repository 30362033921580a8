/**
 * The link between a running task's fibers and the scheduler that runs it.
 *
 * The scheduler sets this FiberRef when it forks a task; every fiber the task
 * forks inherits it, so `Task.output` and `Task.watch` reach the right task
 * without the task declaring any service.
 *
 * @internal
 */
import type { Cause } from "effect"
import { FiberRef } from "effect"

/** Which stream an output line came from. */
export type OutputStream = "stdout" | "stderr" | "log"

/** @internal */
export interface TaskHooks {
  readonly name: string
  /** Records one line of output for this task (events, log files, reporters). */
  readonly output: (stream: OutputStream, line: string) => void
  /** A watcher forked with `Task.watch` failed: the task fails with this cause. */
  readonly watcherFailed: (cause: Cause.Cause<unknown>) => void
}

/** @internal */
export const currentTaskHooks: FiberRef.FiberRef<TaskHooks | undefined> = FiberRef.unsafeMake<TaskHooks | undefined>(
  undefined
)
