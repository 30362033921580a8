/**
 * A `Scope` for one task, created synchronously by the scheduler.
 *
 * Why not `Scope.make()`: making and closing an Effect scope needs an effect,
 * so every task would pay a second fiber just to learn that its scope was
 * empty (measured: ~40% of the per-task cost of a noop task).
 *
 * These are Effect's own scopes — their prototype inherits Effect's, and they
 * have the `state` that `Scope.make` builds — so `forkIn`, `acquireRelease`,
 * `Layer` and friends treat them exactly as usual (some of Effect's internals
 * read `state` directly, which is why a look-alike class does not work).
 *
 * `state` is made on first read: most tasks never add a finalizer, and the
 * open state with its empty Map of finalizers is two thirds of a scope's
 * ~300 bytes (measured). A getter and a setter on the prototype stand for
 * the field Effect reads and assigns; the scheduler asks `isEmpty` without
 * making it.
 *
 * This relies on the pinned effect 3.22.x internals, so the shape and the
 * behaviour are checked at load time (`fastPath`, pinned by
 * test/core/internal/taskScope.test.ts) with a safe fallback to
 * `Scope.make()`.
 *
 * @internal
 */
import { Effect, ExecutionStrategy, Exit, Scope } from "effect"

type Finalizer = Scope.Scope.Finalizer
type State =
  | { readonly _tag: "Open"; readonly finalizers: Map<object, Finalizer> }
  | { readonly _tag: "Closed"; readonly exit: Exit.Exit<unknown, unknown> }

/** The shape of Effect's scope implementation (effect 3.22, internal/fiberRuntime). */
export interface TaskScope extends Scope.CloseableScope {
  state: State
}

/** Our scopes' own field behind `state`: `undefined` until something reads it. */
interface LazyState {
  made: State | undefined
}

const probe: unknown = Effect.runSync(Scope.make())
const ScopeProto: object = Object.getPrototypeOf(probe)

/** Effect's prototype, with `state` made on first read. */
const LazyScopeProto: object = Object.create(ScopeProto, {
  state: {
    get(this: LazyState): State {
      return this.made ??= { _tag: "Open", finalizers: new Map() }
    },
    set(this: LazyState, state: State) {
      this.made = state
    }
  }
})

const lazyScope = (): TaskScope => {
  const scope = Object.create(LazyScopeProto)
  scope.strategy = ExecutionStrategy.sequential
  scope.made = undefined
  return scope
}

const hasEffectsShape = (): boolean => {
  if (typeof probe !== "object" || probe === null || !("state" in probe) || !("strategy" in probe)) return false
  if (Object.getOwnPropertyDescriptor(ScopeProto, "state") !== undefined) return false
  const state: unknown = probe.state
  return typeof state === "object" && state !== null && "_tag" in state && state._tag === "Open" &&
    "finalizers" in state && state.finalizers instanceof Map && state.finalizers.size === 0 &&
    probe.strategy === ExecutionStrategy.sequential
}

/**
 * Effect's own `addFinalizer` reaches a lazy scope's state (closing is left to the tests: running it
 * here would compile Effect's finalizer loop at load, ~0.7 ms of every start-up, measured).
 */
const behavesAsEffects = (): boolean => {
  const scope = lazyScope()
  const finalizer = () => Effect.void
  Effect.runSync(Scope.addFinalizerExit(scope, finalizer))
  const made = (scope as unknown as LazyState).made
  return made !== undefined && made._tag === "Open" && made.finalizers.size === 1 &&
    [...made.finalizers.values()][0] === finalizer
}

/**
 * Whether this Effect's scopes have the shape relied on here and a lazy one
 * behaves as theirs (checked at load time). When not, `make` falls back to
 * `Scope.make()` run synchronously and `isEmpty` answers false (the scope is
 * always closed).
 * @internal
 */
export const fastPath: boolean = (() => {
  try {
    return hasEffectsShape() && behavesAsEffects()
  } catch {
    return false
  }
})()

/** @internal */
export const make = (): TaskScope => fastPath ? lazyScope() : Effect.runSync(Scope.make()) as TaskScope

/** Is there nothing to release? Nothing to close: no finalizer was ever added (or all were removed), or it is closed already. */
export const isEmpty = (scope: TaskScope): boolean => {
  if (!fastPath) return false
  const state = (scope as unknown as LazyState).made
  return state === undefined || state._tag === "Closed" || state.finalizers.size === 0
}
