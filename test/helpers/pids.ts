/**
 * Test helpers for "no process left behind" checks, shared by the process,
 * signal, reporter and qemu tests.
 */
import { readStat } from "../../src/internal/process/group.js"

/** Gone: no such process, or a zombie (this machine's init does not reap orphans). */
export const isGone = (pid: number): boolean => {
  const stat = readStat(pid)
  return stat === undefined || stat.state === "Z" || stat.state === "X"
}

/** Polls a real condition, bounded; returns whether it became true. */
export const eventually = async (condition: () => boolean, timeoutMs: number): Promise<boolean> => {
  const deadline = Date.now() + timeoutMs
  while (!condition()) {
    if (Date.now() > deadline) return false
    await new Promise((resolve) => setTimeout(resolve, 20))
  }
  return true
}
