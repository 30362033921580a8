/**
 * Every live child's process group, for `Process.killAllSync` (the second
 * Ctrl+C) and `Process.running` (the "still stopping" view).
 *
 * Kept in a `globalValue` so that two copies of the module (e.g. ESM loaded
 * twice by a test runner) still share one registry.
 *
 * @internal
 */
import { globalValue } from "effect/GlobalValue"
import { signalGroup } from "./group.js"
import * as Watchdog from "./watchdog.js"

/** @internal */
export interface Entry {
  readonly pid: number
  readonly command: string
  readonly args: ReadonlyArray<string>
  readonly startedAt: number
  state: "running" | "stopping"
}

const entries = globalValue(
  Symbol.for("effect-taskgraph/Process/registry"),
  () => new Map<number, Entry>()
)

/** @internal */
export const register = (entry: Entry): void => {
  entries.set(entry.pid, entry)
  Watchdog.watch(entry.pid)
}

/** @internal */
export const unregister = (pid: number): void => {
  if (entries.delete(pid)) Watchdog.unwatch(pid)
}

/** @internal */
export const get = (pid: number): Entry | undefined => entries.get(pid)

/** @internal */
export const all = (): ReadonlyArray<Entry> => Array.from(entries.values())

/**
 * Signals every registered group at once, synchronously. Entries stay
 * registered: their own release still runs (if the runtime gets to it) and
 * unregisters them when they are really gone.
 *
 * @internal
 */
export const killAll = (signal: NodeJS.Signals | number): number => {
  let count = 0
  for (const entry of entries.values()) {
    if (signalGroup(entry.pid, signal)) count++
  }
  return count
}
