/**
 * The smallest pool worker, for the pool start-up measure in bench/workers.ts:
 * run as TypeScript (booted through tsx) and, compiled to
 * bench/.build/startup.worker.mjs, as plain JavaScript that imports the built
 * package (`effect-taskgraph/workers` resolves to dist/ outside tsx).
 */
import { Effect, Schema } from "effect"
import { WorkerThread } from "effect-taskgraph/workers"

/** Answers at once. */
export class Ping extends Schema.TaggedRequest<Ping>()("Ping", {
  failure: Schema.Never,
  success: Schema.Number,
  payload: {}
}) {}

if (WorkerThread.isWorkerThread) {
  WorkerThread.serve(Ping, { Ping: () => Effect.succeed(1) }).pipe(WorkerThread.launch)
}
