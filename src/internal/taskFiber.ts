/**
 * Forking a task's fiber at the lowest cost Effect allows.
 *
 * `Runtime.runFork` does, per fiber: a copy of every FiberRef with the fork
 * patch applied (`FiberRefs.updateManyAs` + `forkAs`), a `Runtime` object,
 * and registration in the global fiber roots (a `Set` add plus an observer
 * that deletes it again). For a task graph the patch is the same for every
 * task, so it is applied once per run here; a task's fiber then costs one
 * copy of the refs map (to hold its own context) and the fiber itself.
 * Measured on the noop benchmark: ~1 µs a task less than `Runtime.runFork`.
 *
 * The fibers are Effect's own `FiberRuntime`s (the class is taken from a
 * fiber forked once at load), started exactly as `Runtime.runFork` starts
 * them (`start`: run at once, on the caller's stack, until the first async
 * boundary). What is skipped is only the global roots registry
 * (`Fiber.roots`, a debugging aid). A run with a custom `Supervisor` uses
 * `Runtime.runFork` unchanged, so supervisors see every task fiber. If the
 * pinned effect 3.22 internals ever look different, `make` falls back to
 * `Runtime.runFork` too (checked once at load).
 *
 * @internal
 */
import type { Context, Effect, Fiber, RuntimeFlags } from "effect"
import { Effect as E, FiberId, FiberRef, FiberRefs, Runtime, Supervisor } from "effect"

type FiberStack = readonly [readonly [FiberId.Single, unknown], ...Array<readonly [FiberId.Single, unknown]>]
type Locals = Map<FiberRef.FiberRef<unknown>, FiberStack>

interface StartableFiber extends Fiber.RuntimeFiber<unknown, unknown> {
  start(effect: Effect.Effect<unknown, unknown>): void
}
type FiberConstructor = new (
  id: FiberId.Runtime,
  refs: FiberRefs.FiberRefs,
  flags: RuntimeFlags.RuntimeFlags
) => StartableFiber

const localsOf = (refs: FiberRefs.FiberRefs): Locals | undefined => {
  const locals = (refs as unknown as { readonly locals?: unknown }).locals
  return locals instanceof Map ? (locals as Locals) : undefined
}

/** Effect's fiber class, if it still has the shape this module relies on. */
const fiberConstructor: FiberConstructor | undefined = (() => {
  const probe = Runtime.runFork(Runtime.defaultRuntime, E.void)
  const ctor = (probe as { constructor?: unknown }).constructor
  const proto = typeof ctor === "function" ? (ctor.prototype as Record<string, unknown>) : undefined
  if (proto === undefined || typeof proto.start !== "function" || typeof proto.addObserver !== "function") return undefined
  if (localsOf(Runtime.defaultRuntime.fiberRefs) === undefined) return undefined
  return ctor as FiberConstructor
})()

/** Forks one task fiber: `context` is all the task sees; started at once. */
export type ForkTask = (
  context: Context.Context<never>,
  effect: Effect.Effect<unknown, unknown>
) => Fiber.RuntimeFiber<unknown, unknown>

/**
 * A forker for one run: `refs` are the fiber refs every task fiber starts
 * with (the caller's, loggers adjusted), `ownerId` the id they are forked as.
 *
 * @internal
 */
export const make = (
  refs: FiberRefs.FiberRefs,
  runtimeFlags: RuntimeFlags.RuntimeFlags,
  ownerId: FiberId.Runtime
): ForkTask => {
  const supervised = FiberRefs.getOrDefault(refs, FiberRef.currentSupervisor) !== Supervisor.none
  const forked = localsOf(FiberRefs.forkAs(refs, ownerId))
  if (fiberConstructor === undefined || supervised || forked === undefined) {
    return (context, effect) => Runtime.runFork(Runtime.make({ context, fiberRefs: refs, runtimeFlags }), effect)
  }
  const Fiber = fiberConstructor
  const contextRef = FiberRef.currentContext as FiberRef.FiberRef<unknown>
  return (context, effect) => {
    const id = FiberId.unsafeMake()
    const locals: Locals = new Map(forked)
    locals.set(contextRef, [[id, context]])
    const fiber = new Fiber(id, FiberRefs.unsafeMake(locals), runtimeFlags)
    fiber.start(effect)
    return fiber
  }
}

/** Is the fast path in use (false means `Runtime.runFork`)? For tests. @internal */
export const isDirect: boolean = fiberConstructor !== undefined
