/**
 * Temporary files and directories the run owns and removes on release (a
 * VM's run directory, an overlay's directory), for the forced exit: the
 * second Ctrl+C kills every owned process group (`process/registry.ts`) and
 * then removes every path still registered here, synchronously, before the
 * process exits. Their releases never run after a forced exit.
 *
 * Core code: the QEMU modules register into it, `Main` empties it; it knows
 * nothing about what the paths are.
 *
 * Kept in a `globalValue` so that two copies of the module (e.g. ESM loaded
 * twice by a test runner) still share one registry.
 *
 * @internal
 */
import type { Scope } from "effect"
import { Effect } from "effect"
import { globalValue } from "effect/GlobalValue"
import * as NodeFs from "node:fs"

const paths = globalValue(
  Symbol.for("effect-taskgraph/ownedPaths"),
  () => new Set<string>()
)

/** @internal */
export const register = (path: string): void => {
  paths.add(path)
}

/** @internal */
export const unregister = (path: string): void => {
  paths.delete(path)
}

/** @internal */
export const all = (): ReadonlyArray<string> => Array.from(paths)

/**
 * `acquire` creates a path, `release` removes it: the path is registered
 * for as long as it is owned, i.e. from acquisition until its release has
 * run (so a forced exit in between removes it instead).
 *
 * @internal
 */
export const acquireRelease = <E, R, R2>(
  acquire: Effect.Effect<string, E, R>,
  release: (path: string) => Effect.Effect<void, never, R2>
) =>
  Effect.acquireRelease(
    Effect.tap(acquire, (path) => Effect.sync(() => register(path))),
    (path) => Effect.ensuring(release(path), Effect.sync(() => unregister(path)))
  )

/**
 * Registers `path` (created already) and adds a finalizer to the current
 * scope that runs `release`, then unregisters it.
 *
 * @internal
 */
export const own = <R>(path: string, release: Effect.Effect<void, never, R>): Effect.Effect<void, never, Scope.Scope | R> =>
  Effect.zipRight(
    Effect.sync(() => register(path)),
    Effect.addFinalizer(() => Effect.ensuring(release, Effect.sync(() => unregister(path))))
  )

/**
 * Removes every registered path (recursively, ignoring errors) and empties
 * the registry. Synchronous: for the forced exit, where no finalizer runs.
 * Returns how many paths were removed.
 *
 * @internal
 */
export const removeAllSync = (): number => {
  let count = 0
  for (const path of paths) {
    try {
      NodeFs.rmSync(path, { recursive: true, force: true })
      count++
    } catch {
      // best effort: the next run's sweep (qemu/internal/ownedDirs.ts) gets it
    }
  }
  paths.clear()
  return count
}
