import { Effect, Exit, Scope } from "effect"
import { describe, expect, it } from "vitest"
import * as TaskScope from "../../../src/internal/taskScope.js"

describe("internal/taskScope", () => {
  it("this Effect's scopes have the copied shape: the fast path is in use", () => {
    expect(TaskScope.fastPath).toBe(true)
  })

  it("a task scope is an Effect scope: finalizers added through Scope run on close", () => {
    const scope = TaskScope.make()
    expect(TaskScope.isEmpty(scope)).toBe(true)
    const ran: Array<string> = []
    Effect.runSync(Scope.addFinalizer(scope, Effect.sync(() => ran.push("released"))))
    expect(TaskScope.isEmpty(scope)).toBe(false)
    Effect.runSync(Scope.close(scope, Exit.void))
    expect(ran).toEqual(["released"])
    expect(TaskScope.isEmpty(scope)).toBe(true)
  })
})
