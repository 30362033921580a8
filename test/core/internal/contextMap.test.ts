import { Context, Effect } from "effect"
import { describe, expect, it } from "vitest"
import * as ContextMap from "../../../src/internal/contextMap.js"

class Db extends Context.Tag("test/Db")<Db, { readonly url: string }>() {}
class Cache extends Context.Tag("test/Cache")<Cache, { readonly size: number }>() {}

describe("internal/contextMap", () => {
  it("this Effect's contexts keep their services in unsafeMap: the fast path is in use", () => {
    expect(ContextMap.fastPath).toBe(true)
    expect(ContextMap.get).toBe(ContextMap.fast.get)
    expect(ContextMap.build).toBe(ContextMap.fast.build)
  })

  for (const [name, ops] of [["fast", ContextMap.fast], ["safe (the fallback)", ContextMap.safe]] as const) {
    it(`${name}: reads by key, extends a context without changing it, and Effect reads the result`, () => {
      const db = { url: "postgres://db" }
      const cache = { size: 3 }
      const base = Context.make(Db, db)
      expect(ops.get(base, Db.key)).toBe(db)
      expect(ops.has(base, Db.key)).toBe(true)
      expect(ops.get(base, Cache.key)).toBeUndefined()
      expect(ops.has(base, Cache.key)).toBe(false)

      const entries = ops.extend(base)
      entries.set(Cache.key, cache)
      const extended = ops.build(base, entries) as Context.Context<Db | Cache>
      expect(Context.get(extended, Db)).toBe(db)
      expect(Context.get(extended, Cache)).toBe(cache)
      expect(ops.has(base, Cache.key)).toBe(false) // the base is left as it was
      const seen = Effect.runSync(Effect.map(Effect.all([Db, Cache]), ([d, c]) => [d, c]).pipe(Effect.provide(extended)))
      expect(seen).toEqual([db, cache])
    })
  }
})
