/**
 * A `Scope` for one task, created synchronously by the scheduler.
 *
 * Why not `Scope.make()`: making and closing an Effect scope needs an effect,
 * so every task would pay a second fiber just to learn that its scope was
 * empty (measured: ~40% of the per-task cost of a noop task).
 *
 * These are Effect's own scopes — same prototype, same `state` shape that
 * `Scope.make` builds — so `forkIn`, `acquireRelease`, `Layer` and friends
 * treat them exactly as usual (some of Effect's internals read `state`
 * directly, which is why a look-alike class does not work). This relies on
 * the pinned effect 3.22.x internals; test/core/resources.test.ts and the
 * property test exercise it.
 *
 * @internal
 */
import type { Exit } from "effect"
import { Effect, ExecutionStrategy, Scope } from "effect"

type Finalizer = Scope.Scope.Finalizer

/** The shape of Effect's scope implementation (effect 3.22, internal/fiberRuntime). */
export interface TaskScope extends Scope.CloseableScope {
  state:
    | { readonly _tag: "Open"; readonly finalizers: Map<object, Finalizer> }
    | { readonly _tag: "Closed"; readonly exit: Exit.Exit<unknown, unknown> }
}

const ScopeProto: object = Object.getPrototypeOf(Effect.runSync(Scope.make()))

/** @internal */
export const make = (): TaskScope => {
  const scope = Object.create(ScopeProto)
  scope.strategy = ExecutionStrategy.sequential
  scope.state = { _tag: "Open", finalizers: new Map() }
  return scope
}

/** Is there nothing to release? */
export const isEmpty = (scope: TaskScope): boolean =>
  scope.state._tag === "Closed" || scope.state.finalizers.size === 0
