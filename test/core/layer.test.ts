import { describe, expect, it } from "@effect/vitest"
import { Context, Effect, Exit, Layer, Ref, Scope } from "effect"
import { Task, TaskGraph } from "../../src/index.js"

class Db extends Context.Tag("Db")<Db, { readonly url: string }>() {}
class Cache extends Context.Tag("Cache")<Cache, { readonly db: string }>() {}

describe("TaskGraph.toLayer", () => {
  it.effect("provides every tag its tasks provide; resources live as long as the layer, released dependents first", () =>
    Effect.gen(function*() {
      const journal = yield* Ref.make<Array<string>>([])
      const note = (s: string) => Ref.update(journal, (j) => [...j, s])
      const db = Task.make("start db", {
        provides: Db,
        run: Effect.acquireRelease(Effect.as(note("db up"), { url: "pg://x" }), () => note("db down"))
      })
      const cache = Task.make("start cache", {
        requires: [Db],
        provides: Cache,
        run: Effect.acquireRelease(Effect.map(Db, (d) => ({ db: d.url })), () => note("cache down"))
      })
      const layer = TaskGraph.toLayer(TaskGraph.make("env", [db, cache]))
      const scope = yield* Scope.make()
      const context = yield* Layer.buildWithScope(layer, scope)
      // nothing is released while the layer is alive, although no task requires the cache
      expect(yield* Ref.get(journal)).toEqual(["db up"])
      const result = yield* Effect.gen(function*() {
        return `${(yield* Db).url} / ${(yield* Cache).db}`
      }).pipe(Effect.provide(context))
      expect(result).toBe("pg://x / pg://x")
      yield* Scope.close(scope, Exit.void)
      expect(yield* Ref.get(journal)).toEqual(["db up", "cache down", "db down"])
    }))

  it.effect("a failing task fails the layer with the run's error, after releasing what was acquired", () =>
    Effect.gen(function*() {
      const journal = yield* Ref.make<Array<string>>([])
      const db = Task.make("start db", {
        provides: Db,
        run: Effect.acquireRelease(Effect.succeed({ url: "pg://x" }), () => Ref.update(journal, (j) => [...j, "db down"]))
      })
      const cache = Task.make("start cache", { requires: [Db], provides: Cache, run: Effect.fail("cache refused") })
      const program = Effect.provide(Cache, TaskGraph.toLayer(TaskGraph.make("env", [db, cache])))
      const error = yield* Effect.flip(program)
      expect(error._tag).toBe("RunFailedError")
      expect(yield* Ref.get(journal)).toEqual(["db down"])
    }))

  it.effect("in continue mode too, a failing task fails the layer and everything acquired is released", () =>
    Effect.gen(function*() {
      const journal = yield* Ref.make<Array<string>>([])
      const db = Task.make("start db", {
        provides: Db,
        run: Effect.acquireRelease(Effect.succeed({ url: "pg://x" }), () => Ref.update(journal, (j) => [...j, "db down"]))
      })
      const cache = Task.make("start cache", { provides: Cache, run: Effect.fail("cache refused") })
      const layer = TaskGraph.toLayer(TaskGraph.make("env", [db, cache]), { mode: "continue" })
      const error = yield* Effect.flip(Effect.provide(Db, layer))
      expect(error._tag).toBe("RunFailedError")
      expect(yield* Ref.get(journal)).toEqual(["db down"])
    }))

  it.effect("used as an ordinary Layer inside an Effect program", () =>
    Effect.gen(function*() {
      const db = Task.make("start db", { provides: Db, run: Effect.succeed({ url: "pg://y" }) })
      const url = yield* Effect.map(Db, (d) => d.url).pipe(Effect.provide(TaskGraph.toLayer(TaskGraph.make("env", [db]))))
      expect(url).toBe("pg://y")
    }))
})
