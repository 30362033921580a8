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
  // made when someone asks for it (`next`), not per event: a Deferred costs tens of µs to make (measured)
  let signal: Deferred.Deferred<void> | undefined
  return {
    events,
    emit: (event) => {
      events.push(event)
      const current = signal
      if (current === undefined) return
      signal = undefined
      Deferred.unsafeDone(current, Exit.void)
    },
    next: () => (signal ??= Deferred.unsafeMake<void>(ownerId))
  }
}
