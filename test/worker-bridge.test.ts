/**
 * Bridge: event emitters as streams/effects (listeners removed in every
 * case), and the portal that lets Promise code run effects in a scope.
 */
import { describe, expect, it } from "@effect/vitest"
import { Chunk, Context, Deferred, Effect, Exit, Fiber, Scope, Stream } from "effect"
import { EventEmitter } from "node:events"
import * as Bridge from "../src/Bridge.js"

/** Resolves once `emitter` has a listener for `event` (Node emits `newListener` just before adding it). */
const listening = (emitter: EventEmitter, event: string) =>
  Effect.promise(() =>
    new Promise<void>((resolve) => {
      const onNew = (name: string | symbol) => {
        if (name !== event) return
        emitter.off("newListener", onNew)
        queueMicrotask(resolve)
      }
      emitter.on("newListener", onNew)
    })
  )

const listeners = (emitter: EventEmitter) =>
  ["data", "end", "error"].map((event) => emitter.listenerCount(event))

describe("Bridge.fromEmitter", () => {
  it.effect("streams events until the end event, then removes its listeners", () =>
    Effect.gen(function*() {
      const emitter = new EventEmitter()
      const ready = yield* Effect.fork(listening(emitter, "error"))
      const collected = yield* Effect.fork(
        Stream.runCollect(Bridge.fromEmitter<number>(emitter, "data", { end: "end" }))
      )
      yield* Fiber.join(ready)
      expect(listeners(emitter)).toEqual([1, 1, 1])
      emitter.emit("data", 1)
      emitter.emit("data", 2)
      emitter.emit("end")
      expect(Chunk.toReadonlyArray(yield* Fiber.join(collected))).toEqual([1, 2])
      expect(listeners(emitter)).toEqual([0, 0, 0])
    }))

  it.effect("removes its listeners when the consumer is interrupted", () =>
    Effect.gen(function*() {
      const emitter = new EventEmitter()
      const ready = yield* Effect.fork(listening(emitter, "error"))
      const consumer = yield* Effect.fork(Stream.runDrain(Bridge.fromEmitter(emitter, "data", { end: "end" })))
      yield* Fiber.join(ready)
      expect(listeners(emitter)).toEqual([1, 1, 1])
      yield* Fiber.interrupt(consumer)
      expect(listeners(emitter)).toEqual([0, 0, 0])
    }))

  it.effect("removes its listeners when the consumer has taken enough", () =>
    Effect.gen(function*() {
      const emitter = new EventEmitter()
      const ready = yield* Effect.fork(listening(emitter, "error"))
      const firstTwo = yield* Effect.fork(Stream.runCollect(Stream.take(Bridge.fromEmitter<string>(emitter, "data"), 2)))
      yield* Fiber.join(ready)
      emitter.emit("data", "a")
      emitter.emit("data", "b")
      emitter.emit("data", "c")
      expect(Chunk.toReadonlyArray(yield* Fiber.join(firstTwo))).toEqual(["a", "b"])
      expect(listeners(emitter)).toEqual([0, 0, 0])
    }))

  it.effect("fails with EmitterError on the error event, and maps multi-argument events", () =>
    Effect.gen(function*() {
      const emitter = new EventEmitter()
      const ready = yield* Effect.fork(listening(emitter, "error"))
      const seen: Array<string> = []
      const run = yield* Effect.fork(
        Bridge.fromEmitter(emitter, "data", { map: (key, value) => `${String(key)}=${String(value)}` }).pipe(
          Stream.runForEach((kv) => Effect.sync(() => seen.push(kv)))
        )
      )
      yield* Fiber.join(ready)
      emitter.emit("data", "a", 1)
      emitter.emit("error", new Error("connection reset"))
      const error = yield* Effect.flip(Fiber.join(run))
      expect(error._tag).toBe("EmitterError")
      expect(error.message).toBe(`the emitter emitted "error": connection reset`)
      expect(seen).toEqual(["a=1"])
      expect(listeners(emitter)).toEqual([0, 0, 0])
    }))
})

describe("Bridge.once", () => {
  it.effect("succeeds with the next event and removes its listeners", () =>
    Effect.gen(function*() {
      const emitter = new EventEmitter()
      const ready = yield* Effect.fork(listening(emitter, "error"))
      const next = yield* Effect.fork(Bridge.once<number>(emitter, "data"))
      yield* Fiber.join(ready)
      emitter.emit("data", 42)
      expect(yield* Fiber.join(next)).toBe(42)
      expect(listeners(emitter)).toEqual([0, 0, 0])
    }))

  it.effect("removes its listeners when interrupted, and fails on the error event", () =>
    Effect.gen(function*() {
      const emitter = new EventEmitter()
      const ready = yield* Effect.fork(listening(emitter, "error"))
      const next = yield* Effect.fork(Bridge.once(emitter, "data"))
      yield* Fiber.join(ready)
      yield* Fiber.interrupt(next)
      expect(listeners(emitter)).toEqual([0, 0, 0])

      const ready2 = yield* Effect.fork(listening(emitter, "error"))
      const failing = yield* Effect.fork(Bridge.once(emitter, "data"))
      yield* Fiber.join(ready2)
      emitter.emit("error", new Error("ENOENT"))
      expect((yield* Effect.flip(Fiber.join(failing))).message).toContain("ENOENT")
      expect(listeners(emitter)).toEqual([0, 0, 0])
    }))
})

class Greeting extends Context.Tag("test/Greeting")<Greeting, string>() {}

describe("Bridge.makePortal", () => {
  it.scoped("Promise code runs effects in the portal's context and gets values and typed errors back", () =>
    Effect.gen(function*() {
      const portal = yield* Bridge.makePortal<Greeting>().pipe(Effect.provideService(Greeting, "hello"))
      // plain Promise code, as a callback API would run it
      const plain = async () => {
        const a = await portal.submit(Effect.map(Greeting, (g) => `${g} world`))
        const b = await portal.submit(Effect.fail(new Error("no such user"))).catch((e: Error) => e.message)
        return [a, b]
      }
      expect(yield* Effect.promise(plain)).toEqual(["hello world", "no such user"])
      expect(portal.running()).toBe(0)
    }))

  it.effect("stop() interrupts running effects (finalizers run), rejects them clearly, and refuses new ones", () =>
    Effect.gen(function*() {
      const scope = yield* Scope.make()
      const portal = yield* Bridge.makePortal().pipe(Scope.extend(scope))
      const started = yield* Deferred.make<void>()
      const finalized = yield* Deferred.make<void>()
      const running = portal.submit(
        Deferred.succeed(started, undefined).pipe(
          Effect.zipRight(Effect.never),
          Effect.onInterrupt(() => Deferred.succeed(finalized, undefined))
        )
      )
      yield* Deferred.await(started)
      expect(portal.running()).toBe(1)
      yield* Effect.promise(() => portal.stop())
      expect(yield* Deferred.isDone(finalized)).toBe(true)
      const error = yield* Effect.promise(() => running.then(() => undefined, (e: unknown) => e))
      expect(error).toBeInstanceOf(Bridge.PortalStoppedError)
      expect(error).toMatchObject({ when: "interrupted" })
      const refused = yield* Effect.promise(() => portal.submit(Effect.succeed(1)).catch((e: unknown) => e))
      expect(refused).toMatchObject({ _tag: "PortalStoppedError", when: "refused" })
      yield* Scope.close(scope, Exit.void)
    }))

  it.effect("closing the owning scope stops the portal", () =>
    Effect.gen(function*() {
      const scope = yield* Scope.make()
      const portal = yield* Bridge.makePortal().pipe(Scope.extend(scope))
      const started = yield* Deferred.make<void>()
      const running = portal.submit(Effect.zipRight(Deferred.succeed(started, undefined), Effect.never))
      yield* Deferred.await(started)
      yield* Scope.close(scope, Exit.void)
      const error = yield* Effect.promise(() => running.then(() => undefined, (e: unknown) => e))
      expect(error).toMatchObject({ _tag: "PortalStoppedError", when: "interrupted" })
      expect(portal.running()).toBe(0)
    }))

  it.scoped("an AbortSignal interrupts the effect and rejects with the signal's reason; idle() waits", () =>
    Effect.gen(function*() {
      const portal = yield* Bridge.makePortal()
      const started = yield* Deferred.make<void>()
      const finalized = yield* Deferred.make<void>()
      const controller = new AbortController()
      const running = portal.submit(
        Deferred.succeed(started, undefined).pipe(
          Effect.zipRight(Effect.never),
          Effect.onInterrupt(() => Deferred.succeed(finalized, undefined))
        ),
        { signal: controller.signal }
      )
      yield* Deferred.await(started)
      controller.abort(new Error("user pressed cancel"))
      const error = yield* Effect.promise(() => running.then(() => undefined, (e: unknown) => e))
      expect(error).toMatchObject({ message: "user pressed cancel" })
      yield* Deferred.await(finalized)
      yield* Effect.promise(() => portal.idle())
      expect(portal.running()).toBe(0)
    }))
})
