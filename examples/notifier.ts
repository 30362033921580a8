/**
 * A background notification worker fed by several tasks:
 *
 *   notifier ──┬─> build ──> test ──┐
 *              ├─> lint ────────────┼─> (notifier released: drained, then stopped)
 *              └─> docs ────────────┘
 *
 * "notifier" is a resource task providing a `BackgroundWorker`: one fiber
 * sends notifications one at a time (100 ms each, like a chat webhook), from
 * a queue of at most 3. The other tasks submit notifications while they
 * work: `send` waits for the notification to be sent; `notify` only waits
 * for room in the queue (backpressure), and what becomes of the notification
 * is reported even after its task has finished. When the last task that
 * requires the notifier is done, the notifier is released: it drains what
 * was accepted, then stops. Nothing is lost silently.
 *
 *   npx tsx examples/notifier.ts
 *   npx tsx examples/notifier.ts --cancel   # onStop: "cancel": what is still queued is reported as not sent
 */
import { Context, Effect, FiberSet } from "effect"
import { Task, TaskGraph } from "effect-taskgraph"
import { Main } from "effect-taskgraph/node"
import { BackgroundWorker } from "effect-taskgraph/workers"

const cancel = process.argv.includes("--cancel")

/** The service the tasks use. */
interface NotifierService {
  /** Sends and waits until it is sent; succeeds with the message's sequence number. */
  readonly send: (
    text: string
  ) => Effect.Effect<number, BackgroundWorker.BackgroundWorkerStoppedError | BackgroundWorker.BackgroundWorkerCancelledError>
  /**
   * Queues without waiting for the send (only for room in the queue:
   * backpressure). What becomes of it is reported even if the caller has
   * finished by then.
   */
  readonly notify: (text: string) => Effect.Effect<void, BackgroundWorker.BackgroundWorkerStoppedError>
}
class Notifier extends Context.Tag("Notifier")<Notifier, NotifierService>() {}

const notifier = Task.make("notifier", {
  provides: Notifier,
  run: Effect.gen(function*() {
    let sent = 0
    // fibers that report what became of fire-and-forget notifications; made before the worker,
    // so they are waited for after the worker has stopped (finalizers run in reverse order)
    const reporters = yield* FiberSet.make()
    yield* Effect.addFinalizer(() => FiberSet.awaitEmpty(reporters))
    const worker = yield* BackgroundWorker.make({
      name: "notifier",
      capacity: 3,
      onStop: cancel ? "cancel" : "drain",
      // the "webhook": 100 ms per message; returns the message's sequence number
      process: (message: string) =>
        Effect.sleep("100 millis").pipe(
          Effect.zipRight(Effect.sync(() => ++sent)),
          Effect.tap((n) => Task.output(`#${n} sent: ${message}`))
        )
    })
    // registered after the worker: runs before it stops
    yield* Effect.addFinalizer(() =>
      Task.output(`stopping (${cancel ? "cancel" : "drain"}): ${sent} sent so far`)
    )
    return {
      send: worker.submit,
      notify: (text: string) =>
        Effect.flatMap(worker.enqueue(text), (result) =>
          FiberSet.run(
            reporters,
            result.pipe(
              Effect.catchAll((e) => Task.output(`not sent "${text}": ${e.message}`, "stderr"))
            )
          )).pipe(Effect.asVoid)
    }
  })
})

const build = Task.make("build", {
  requires: [Notifier],
  run: Effect.gen(function*() {
    const notifier = yield* Notifier
    yield* notifier.send("build started") // waits until it is sent
    yield* Effect.sleep("150 millis")
    yield* notifier.notify("build: 3 packages compiled")
    yield* notifier.notify("build finished")
  })
})

const test = Task.make("test", {
  requires: [Notifier],
  after: [build],
  run: Effect.gen(function*() {
    const notifier = yield* Notifier
    for (const suite of ["unit", "integration", "e2e"]) {
      yield* Effect.sleep("50 millis")
      yield* notifier.notify(`test: ${suite} suite passed`)
    }
  })
})

const lint = Task.make("lint", {
  requires: [Notifier],
  run: Effect.gen(function*() {
    const notifier = yield* Notifier
    yield* Effect.sleep("100 millis")
    const n = yield* notifier.send("lint: 0 problems")
    yield* Task.output(`my notification went out as #${n}`)
  })
})

const docs = Task.make("docs", {
  requires: [Notifier],
  run: Effect.gen(function*() {
    const notifier = yield* Notifier
    for (let page = 1; page <= 6; page++) {
      const t0 = performance.now()
      yield* notifier.notify(`docs: page ${page} rendered`)
      const waited = performance.now() - t0
      // with a queue of 3 and a 100 ms webhook, producers wait for room: backpressure
      if (waited > 20) yield* Task.output(`waited ${waited.toFixed(0)} ms for room in the queue`)
    }
  })
})

const graph = TaskGraph.make("notify", [notifier, build, test, lint, docs])

// the plain reporter in CI or a pipe, the live view in a terminal; exits 0/1/130
Main.runMain(graph)
