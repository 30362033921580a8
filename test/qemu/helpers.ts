/**
 * Shared helpers of the QEMU tests: capture what `Task.output` receives (as
 * the scheduler's hooks would), build the test guest once (idempotent and
 * cached by scripts/guest.sh), and check that a process is gone.
 */
import type { Cause } from "effect"
import { Effect } from "effect"
import * as fs from "node:fs"
import type { OutputStream, TaskHooks } from "../../src/internal/taskHooks.js"
import { currentTaskHooks } from "../../src/internal/taskHooks.js"
import { isGone } from "../helpers/pids.js"

export const capture = (onWatcherFailed?: (cause: Cause.Cause<unknown>) => void) => {
  const lines: Array<readonly [OutputStream, string]> = []
  const hooks: TaskHooks = {
    name: "qemu test",
    output: (stream, line) => {
      lines.push([stream, line])
    },
    watcherFailed: (cause) => onWatcherFailed?.(cause)
  }
  const within = <A, E, R>(effect: Effect.Effect<A, E, R>) => Effect.locally(effect, currentTaskHooks, hooks)
  const of = (stream: OutputStream) => lines.filter(([s]) => s === stream).map(([, line]) => line)
  return { lines, within, of, hooks }
}

export { isGone }

/** The pids of live qemu-system processes whose command line mentions `needle`. */
export const qemuPidsWith = (needle: string): ReadonlyArray<number> =>
  fs.readdirSync("/proc").filter((d) => /^\d+$/.test(d)).map(Number).filter((pid) => {
    try {
      const cmd = fs.readFileSync(`/proc/${pid}/cmdline`, "utf8")
      return cmd.includes("qemu-system") && cmd.includes(needle) && !isGone(pid)
    } catch {
      return false
    }
  })
