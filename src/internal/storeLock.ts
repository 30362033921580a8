/**
 * One process at a time on a sqlite store. Two processes on one file both
 * register as the same single runner, and one can take the other's activity
 * messages, whose bridge lives in the other process: that run then waits
 * forever (seen with two CLI runs of different ids started together). So a
 * process holds `<store>.lock` (its pid) while the store is open; another one
 * waits for it, saying once whom it waits for. A lock whose process is gone
 * (SIGKILL) is taken over.
 *
 * @internal
 */
import * as fs from "node:fs"
import type { Scope } from "effect"
import { Effect } from "effect"
import { isAlive } from "./pids.js"

const holderOf = (lockFile: string): number | undefined => {
  try {
    const pid = Number.parseInt(fs.readFileSync(lockFile, "utf8"), 10)
    return Number.isInteger(pid) && pid > 0 ? pid : undefined
  } catch {
    return undefined
  }
}

const mtimeOf = (file: string): number => {
  try {
    return fs.statSync(file).mtimeMs
  } catch {
    return 0
  }
}

/**
 * Locks this process holds, by file, with how many open stores use each: one process may open a
 * store twice (two layers); the file goes when the last is closed. Module-private state, as the
 * lock itself is per process.
 */
const held = new Map<string, number>()

/** Removes the lock file if it is still this process's. */
const remove = (lockFile: string): void => {
  if (holderOf(lockFile) !== process.pid) return
  try {
    fs.unlinkSync(lockFile)
  } catch {
    // gone already
  }
}

// a program that ends with process.exit (Main.runMain, Durable.runMain) closes no scope: its locks go
// on the way out (after a SIGKILL the next process takes the lock over)
let exitHook = false
const removeAllOnExit = (): void => {
  if (exitHook) return
  exitHook = true
  process.once("exit", () => {
    for (const lockFile of held.keys()) remove(lockFile)
  })
}

/** A lock file without a pid yet: its process is between creating and writing it (a few µs). */
const WRITING = 0

/**
 * One attempt: the lock taken (`undefined`), the pid of the live process that holds it, or
 * `WRITING`. A lock left by a process that is gone (SIGKILL) is taken over; two processes taking
 * over the same stale lock in the same instant could both win, which needs a SIGKILL and two starts
 * within microseconds of each other.
 */
const tryTake = (lockFile: string): number | undefined => {
  try {
    fs.writeFileSync(lockFile, `${process.pid}\n`, { flag: "wx" })
    return undefined
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code !== "EEXIST") throw error
  }
  const holder = holderOf(lockFile)
  if (holder === undefined && Date.now() - mtimeOf(lockFile) < 5_000) return WRITING
  if (holder !== undefined && holder !== process.pid && isAlive(holder)) return holder
  try {
    fs.unlinkSync(lockFile)
  } catch {
    // removed by another process first
  }
  return tryTake(lockFile)
}

/**
 * Holds `lockFile` for the scope. While a live process holds it, waits (a
 * look every 200 ms), after `onWait(pid)` the first time. Released when the
 * scope closes.
 */
export const hold = (
  lockFile: string,
  onWait: (holder: number) => Effect.Effect<void>
): Effect.Effect<void, Error, Scope.Scope> => {
  const take = Effect.try({
    try: () => (held.has(lockFile) ? undefined : tryTake(lockFile)),
    catch: (e) => (e instanceof Error ? e : new Error(String(e)))
  })
  const wait = (told: boolean): Effect.Effect<void, Error> =>
    Effect.flatMap(take, (holder) =>
      holder === undefined
        ? Effect.sync(() => {
          held.set(lockFile, (held.get(lockFile) ?? 0) + 1)
          removeAllOnExit()
        })
        : Effect.zipRight(
          told || holder === WRITING ? Effect.void : onWait(holder),
          Effect.zipRight(Effect.sleep("200 millis"), Effect.suspend(() => wait(told || holder !== WRITING)))
        ))
  return Effect.acquireRelease(Effect.suspend(() => wait(false)), () =>
    Effect.sync(() => {
      const users = (held.get(lockFile) ?? 1) - 1
      if (users > 0) return held.set(lockFile, users)
      held.delete(lockFile)
      remove(lockFile)
    }))
}
