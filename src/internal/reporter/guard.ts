/**
 * One reporter's bug must not cost the run its other reporters. A session
 * whose handler throws or dies is turned off for the rest of the run; the
 * others are told in a log notice naming it (on stderr when it was alone),
 * and keep their events, their summary and their files (the HTML report is
 * written at the end whatever a terminal view did). Interruption is passed on.
 *
 * @internal
 */
import { Cause, Effect } from "effect"
import type * as Reporter from "../../Reporter.js"
import { prettyCause } from "../errorText.js"

interface Guarded {
  readonly name: string
  readonly session: Reporter.Session
  off: boolean
}

/** The sessions of `combine`, each guarded, as one session. */
export const combineGuarded = (
  named: ReadonlyArray<{ readonly name: string; readonly session: Reporter.Session }>
): Reporter.Session => {
  const all: Array<Guarded> = named.map(({ name, session }) => ({ name, session, off: false }))

  const turnOff = (broken: Guarded, handler: string, cause: Cause.Cause<unknown>) =>
    Effect.suspend(() => {
      broken.off = true
      const message = `the reporter "${broken.name}" failed in ${handler} and is turned off for the rest of the run: ` +
        prettyCause(cause)
      const others = all.filter((g) => !g.off)
      if (others.length === 0) return Effect.sync(() => process.stderr.write(`effect-taskgraph: ${message}\n`))
      const notice: Reporter.Log = { _tag: "Log", level: "ERROR", message, task: undefined }
      return Effect.forEach(others, (g) => call(g, "onNotice", (s) => s.onNotice(notice)), { discard: true })
    })

  const call = (g: Guarded, handler: string, f: (session: Reporter.Session) => Effect.Effect<void>): Effect.Effect<void> =>
    g.off
      ? Effect.void
      : Effect.catchAllCause(
        Effect.suspend(() => f(g.session)),
        (cause) => Cause.isInterruptedOnly(cause) ? Effect.failCause(cause) : turnOff(g, handler, cause)
      )

  const each = (handler: string, f: (session: Reporter.Session) => Effect.Effect<void>) =>
    Effect.forEach(all, (g) => call(g, handler, f), { discard: true })

  return {
    artifacts: all.flatMap((g) => g.session.artifacts),
    onEvents: (events) => each("onEvents", (s) => s.onEvents(events)),
    onNotice: (notice) => each("onNotice", (s) => s.onNotice(notice)),
    onEnd: (end) => each("onEnd", (s) => s.onEnd(end)),
    onForce: (forced) => {
      for (const g of all) {
        if (g.off) continue
        try {
          g.session.onForce(forced)
        } catch {
          // last words must not stop the others'
        }
      }
    }
  }
}
