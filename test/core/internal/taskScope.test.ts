import { Effect, ExecutionStrategy, Exit, Scope } from "effect"
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

  it("its state is made on first use: a scope nothing was added to holds none, and closes as empty", () => {
    const scope = TaskScope.make()
    expect(Reflect.get(scope, "made")).toBeUndefined()
    expect(TaskScope.isEmpty(scope)).toBe(true)
    expect(Reflect.get(scope, "made")).toBeUndefined()
    // Effect reads `state` itself: it sees an open scope with no finalizers
    expect(scope.state._tag).toBe("Open")
    expect(TaskScope.isEmpty(scope)).toBe(true)
    Effect.runSync(Scope.close(scope, Exit.void))
    expect(scope.state._tag).toBe("Closed")
    // adding to a closed scope runs the finalizer at once, as Effect's scopes do
    const ran: Array<string> = []
    Effect.runSync(Scope.addFinalizer(scope, Effect.sync(() => ran.push("late"))))
    expect(ran).toEqual(["late"])
  })

  it("a scope forked from it, and what acquireRelease acquires in it, close with it in reverse order", () => {
    const scope = TaskScope.make()
    const ran: Array<string> = []
    Effect.runSync(
      Effect.gen(function*() {
        const child = yield* Scope.fork(scope, ExecutionStrategy.sequential)
        yield* Scope.addFinalizer(child, Effect.sync(() => ran.push("child")))
        yield* Effect.acquireRelease(Effect.succeed(1), () => Effect.sync(() => ran.push("resource"))).pipe(
          Scope.extend(scope)
        )
      })
    )
    expect(TaskScope.isEmpty(scope)).toBe(false)
    Effect.runSync(Scope.close(scope, Exit.void))
    expect(ran).toEqual(["resource", "child"])
    expect(TaskScope.isEmpty(scope)).toBe(true)
  })
})
