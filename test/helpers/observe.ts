/**
 * What tests use to see what the runtime did: the fibers a run started, the
 * spans it made.
 */
import { Effect, Supervisor, Tracer } from "effect"

/** Counts every fiber started under it (`Effect.supervised(counter)`). */
export class StartCounter extends Supervisor.AbstractSupervisor<number> {
  started = 0
  value = Effect.sync(() => this.started)
  override onStart() {
    this.started++
  }
}

/** The current tracer, wrapped to keep every span it makes (`made`) for a test to read. */
export const recordingTracer = Effect.map(Effect.tracer, (native) => {
  const made: Array<Tracer.Span> = []
  const tracer = Tracer.make({
    span: (...args) => {
      const span = native.span(...args)
      made.push(span)
      return span
    },
    context: native.context
  })
  return { tracer, made }
})
