/**
 * BackgroundWorker: queue semantics with gates (Deferreds) instead of sleeps,
 * and one worker backed by real worker threads.
 */
import { describe, expect, it } from "@effect/vitest"
import { Deferred, Effect, Exit, Fiber, Option, Ref, Scope } from "effect"
import * as BackgroundWorker from "../src/BackgroundWorker.js"
import * as WorkerPool from "../src/WorkerPool.js"
import { Fib } from "./fixtures/worker/requests.js"

/** One gate per item: the work for item `n` finishes when gate `n` opens. */
const makeGates = (n: number) => Effect.forEach(Array.from({ length: n }), () => Deferred.make<void>())

/** Lets forked fibers run until they suspend (no timers involved). */
const settle = Effect.repeatN(Effect.yieldNow(), 20)

describe("BackgroundWorker", () => {
  it.scoped("results reach the right caller when items finish out of order", () =>
    Effect.gen(function*() {
      const gates = yield* makeGates(3)
      const finished = yield* Ref.make<ReadonlyArray<number>>([])
      const worker = yield* BackgroundWorker.make({
        process: (i: number) =>
          Deferred.await(gates[i]!).pipe(
            Effect.zipRight(Ref.update(finished, (xs) => [...xs, i])),
            Effect.as(`result of ${i}`)
          ),
        concurrency: 3
      })
      const callers = yield* Effect.forEach([0, 1, 2], (i) => Effect.fork(worker.submit(i)))
      yield* settle
      expect(yield* worker.running).toBe(3)
      for (const i of [2, 0, 1]) yield* Deferred.succeed(gates[i]!, undefined)
      const results = yield* Effect.forEach(callers, Fiber.join)
      expect(results).toEqual(["result of 0", "result of 1", "result of 2"])
      expect(yield* Ref.get(finished)).toEqual([2, 0, 1])
    }))

  it.scoped("a bounded queue applies backpressure to submitters", () =>
    Effect.gen(function*() {
      const gates = yield* makeGates(4)
      const worker = yield* BackgroundWorker.make({
        process: (i: number) => Effect.as(Deferred.await(gates[i]!), i),
        capacity: 2
      })
      // item 0 runs, items 1 and 2 fill the queue
      const results = [yield* worker.enqueue(0)]
      yield* settle
      results.push(yield* worker.enqueue(1), yield* worker.enqueue(2))
      expect(yield* worker.queued).toBe(2)
      // item 3 waits for room
      const blocked = yield* Effect.fork(worker.enqueue(3))
      yield* settle
      expect(Option.isNone(yield* Fiber.poll(blocked))).toBe(true)
      // finishing item 0 lets item 1 start, which makes room for item 3
      yield* Deferred.succeed(gates[0]!, undefined)
      results.push(yield* Fiber.join(blocked))
      for (const gate of gates) yield* Deferred.succeed(gate, undefined)
      expect(yield* Effect.all(results)).toEqual([0, 1, 2, 3])
    }))

  it.scoped("a failure fails only that item's caller; the worker goes on", () =>
    Effect.gen(function*() {
      const worker = yield* BackgroundWorker.make({
        process: (i: number) => (i === 2 ? Effect.fail(`item ${i} is invalid`) : Effect.succeed(i)),
        concurrency: 2
      })
      const exits = yield* Effect.forEach([1, 2, 3], (i) => Effect.exit(worker.submit(i)), {
        concurrency: "unbounded"
      })
      expect(exits[0]).toEqual(Exit.succeed(1))
      expect(exits[1]).toEqual(Exit.fail("item 2 is invalid"))
      expect(exits[2]).toEqual(Exit.succeed(3))
    }))

  it.effect("on release with onStop: drain, accepted items finish; waiting and later submitters are refused", () =>
    Effect.gen(function*() {
      const scope = yield* Scope.make()
      const gates = yield* makeGates(2)
      const worker = yield* BackgroundWorker.make({
        process: (i: number) => Effect.as(Deferred.await(gates[i]!), i * 10),
        capacity: 1,
        name: "drainer"
      }).pipe(Scope.extend(scope))
      const first = yield* worker.enqueue(0)
      yield* settle
      const second = yield* worker.enqueue(1) // fills the queue
      const waiting = yield* Effect.fork(worker.submit(2)) // waits for room
      yield* settle

      const closing = yield* Effect.fork(Scope.close(scope, Exit.void))
      const refused = yield* Effect.flip(Fiber.join(waiting))
      expect(refused._tag).toBe("BackgroundWorkerStoppedError")
      expect(refused.message).toContain(`background worker "drainer" is stopped`)
      // the release waits for the accepted items
      yield* settle
      expect(Option.isNone(yield* Fiber.poll(closing))).toBe(true)
      for (const gate of gates) yield* Deferred.succeed(gate, undefined)
      expect(yield* Effect.all([first, second])).toEqual([0, 10])
      yield* Fiber.join(closing)
      const late = yield* Effect.flip(worker.submit(3))
      expect(late._tag).toBe("BackgroundWorkerStoppedError")
    }))

  it.effect("on release with onStop: cancel, queued and running items fail their callers clearly", () =>
    Effect.gen(function*() {
      const scope = yield* Scope.make()
      const cleanedUp = yield* Deferred.make<number>()
      const worker = yield* BackgroundWorker.make({
        process: (i: number) => Effect.never.pipe(Effect.onInterrupt(() => Deferred.succeed(cleanedUp, i))),
        onStop: "cancel",
        name: "canceller"
      }).pipe(Scope.extend(scope))
      const running = yield* Effect.fork(worker.submit(0))
      yield* settle
      const queued = yield* Effect.fork(worker.submit(1))
      yield* settle
      expect([yield* worker.running, yield* worker.queued]).toEqual([1, 1])

      yield* Scope.close(scope, Exit.void)
      expect(yield* Deferred.await(cleanedUp)).toBe(0) // the running work's finalizer ran
      const runningError = yield* Effect.flip(Fiber.join(running))
      expect(runningError).toMatchObject({ _tag: "BackgroundWorkerCancelledError", state: "running" })
      expect(runningError.message).toContain("stopped while this item was running")
      const queuedError = yield* Effect.flip(Fiber.join(queued))
      expect(queuedError).toMatchObject({ _tag: "BackgroundWorkerCancelledError", state: "queued" })
      expect(queuedError.message).toContain(`onStop: "cancel"`)
    }))

  it.live("a drain that takes longer than drainTimeout cancels what is left", () =>
    Effect.gen(function*() {
      const scope = yield* Scope.make()
      const worker = yield* BackgroundWorker.make({
        process: (_: number) => Effect.never,
        drainTimeout: "50 millis"
      }).pipe(Scope.extend(scope))
      const caller = yield* Effect.fork(worker.submit(0))
      yield* settle
      yield* Scope.close(scope, Exit.void)
      const error = yield* Effect.flip(Fiber.join(caller))
      expect(error).toMatchObject({ _tag: "BackgroundWorkerCancelledError", reason: "drain timeout" })
    }))

  it.scoped("an interrupted caller withdraws its queued item and interrupts its running one", () =>
    Effect.gen(function*() {
      const processed = yield* Ref.make<ReadonlyArray<number>>([])
      const interrupted = yield* Deferred.make<number>()
      const gate = yield* Deferred.make<void>()
      const worker = yield* BackgroundWorker.make({
        process: (i: number) =>
          Ref.update(processed, (xs) => [...xs, i]).pipe(
            Effect.zipRight(i === 0 ? Effect.never : Deferred.await(gate)),
            Effect.onInterrupt(() => Deferred.succeed(interrupted, i))
          )
      })
      const running = yield* Effect.fork(worker.submit(0))
      yield* settle
      const queued = yield* Effect.fork(worker.submit(1))
      const kept = yield* Effect.fork(worker.submit(2))
      yield* settle
      yield* Fiber.interrupt(queued)
      yield* Fiber.interrupt(running)
      expect(yield* Deferred.await(interrupted)).toBe(0)
      yield* Deferred.succeed(gate, undefined)
      yield* Fiber.join(kept)
      expect(yield* Ref.get(processed)).toEqual([0, 2])
    }))

  it.scopedLive("the work can run on worker threads", () =>
    Effect.gen(function*() {
      const pool = yield* WorkerPool.make<Fib>({
        entry: new URL("./fixtures/worker/compute.ts", import.meta.url),
        size: 2
      })
      const worker = yield* BackgroundWorker.make({
        process: (n: number) => pool.execute(new Fib({ n })),
        concurrency: 2,
        capacity: 4
      })
      const results = yield* Effect.forEach([27, 5, 20, 1, -1], (n) => Effect.either(worker.submit(n)), {
        concurrency: "unbounded"
      })
      expect(results.slice(0, 4).map((r) => r._tag === "Right" ? r.right : undefined)).toEqual([196418, 5, 6765, 1])
      expect(results[4]?._tag === "Left" && results[4].left._tag).toBe("FibError")
    }), 60_000)
})
