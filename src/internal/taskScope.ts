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
 * the pinned effect 3.22.x internals, so the shape is checked at load time
 * (`fastPath`, pinned by test/core/internal/taskScope.test.ts) with a safe
 * fallback to `Scope.make()`.
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

const probe: unknown = Effect.runSync(Scope.make())
const ScopeProto: object = Object.getPrototypeOf(probe)

/**
 * Whether this Effect's scopes have the shape copied here (checked at load
 * time on a real one). When not, `make` falls back to `Scope.make()` run
 * synchronously and `isEmpty` answers false (the scope is always closed).
 * @internal
 */
export const fastPath: boolean = (() => {
  if (typeof probe !== "object" || probe === null || !("state" in probe) || !("strategy" in probe)) return false
  const state: unknown = probe.state
  return typeof state === "object" && state !== null && "_tag" in state && state._tag === "Open" &&
    "finalizers" in state && state.finalizers instanceof Map && state.finalizers.size === 0 &&
    probe.strategy === ExecutionStrategy.sequential
})()

/** @internal */
export const make = (): TaskScope => {
  if (!fastPath) return Effect.runSync(Scope.make()) as TaskScope
  const scope = Object.create(ScopeProto)
  scope.strategy = ExecutionStrategy.sequential
  scope.state = { _tag: "Open", finalizers: new Map() }
  return scope
}

/** Is there nothing to release? */
export const isEmpty = (scope: TaskScope): boolean =>
  fastPath && (scope.state._tag === "Closed" || scope.state.finalizers.size === 0)
