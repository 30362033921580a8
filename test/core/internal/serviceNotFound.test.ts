import { Context, Effect } from "effect"
import { describe, expect, it } from "vitest"
import * as ServiceNotFound from "../../../src/internal/serviceNotFound.js"

describe("internal/serviceNotFound", () => {
  it("recognizes this Effect's \"Service not found\" defect (the fast path is in use)", () => {
    expect(ServiceNotFound.recognized).toBe(true)
  })

  it("reads the tag's key from a real defect, and nothing from other errors", () => {
    class Db extends Context.Tag("test/Db")<Db, number>() {}
    // a task that yields a tag nobody provided: the defect the scheduler explains
    const read = Effect.flatMap(Effect.context<never>(), (ctx) => Effect.sync(() => Context.unsafeGet(ctx as Context.Context<Db>, Db)))
    const exit = Effect.runSyncExit(Effect.catchAllDefect(read, (defect) => Effect.succeed(ServiceNotFound.tagOf(defect))))
    expect(exit._tag === "Success" ? exit.value : undefined).toBe("test/Db")
    expect(ServiceNotFound.tagOf(new Error("boom"))).toBeUndefined()
    expect(ServiceNotFound.tagOf("Service not found: x")).toBeUndefined()
  })
})
