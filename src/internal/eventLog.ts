/**
 * The events of one run, recorded in order, and a signal for the next one
 * (what `RunHandle.events` and reporters read).
 *
 * @internal
 */
import type { FiberId } from "effect"
import { Deferred, Exit } from "effect"
import type * as TaskEvent from "../TaskEvent.js"

/** @internal */
export interface EventLog {
  /** Every event so far, oldest first. */
  readonly events: ReadonlyArray<TaskEvent.TaskEvent>
  /** Records an event and completes the current signal. */
  readonly emit: (event: TaskEvent.TaskEvent) => void
  /** Completes when the next event is recorded. */
  readonly next: () => Deferred.Deferred<void>
}

/** @internal */
export const make = (ownerId: FiberId.FiberId): EventLog => {
  const events: Array<TaskEvent.TaskEvent> = []
  let signal = Deferred.unsafeMake<void>(ownerId)
  return {
    events,
    emit: (event) => {
      events.push(event)
      const current = signal
      signal = Deferred.unsafeMake<void>(ownerId)
      Deferred.unsafeDone(current, Exit.void)
    },
    next: () => signal
  }
}
