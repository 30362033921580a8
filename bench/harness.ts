/**
 * What the benchmark drivers (bench/run.ts, bench/run-firstrun.ts) share: bundling a measuring
 * program once with esbuild, medians with their range, the figures' formatting, and whether
 * Python's asyncio can be measured here.
 */
import { execFileSync } from "node:child_process"
import { mkdirSync } from "node:fs"

export type Sample = Record<string, number>
export interface Stats {
  readonly median: number
  readonly min: number
  readonly max: number
}

/** Bundles `entry` to `outfile` (Effect and p-graph stay external: the measured process loads the installed ones). */
export const bundle = (entry: string, outfile: string): void => {
  mkdirSync("bench/.build", { recursive: true })
  execFileSync("node_modules/.bin/esbuild", [
    entry, "--bundle", "--platform=node", "--format=esm", "--external:effect", "--external:p-graph",
    "--external:@effect/*", `--outfile=${outfile}`, "--log-level=warning"
  ], { stdio: "inherit" })
}

export const stats = (values: Array<number>): Stats => {
  const sorted = [...values].sort((a, b) => a - b)
  return { median: sorted[Math.floor(sorted.length / 2)]!, min: sorted[0]!, max: sorted.at(-1)! }
}

export const pick = (from: Array<Sample>, key: string): Stats => stats(from.map((sample) => sample[key]!))

/** `median (min–max)`, or n/a. */
export const fmt = (s: Stats | undefined, digits = 2): string =>
  s === undefined || Number.isNaN(s.median) ? "n/a" : `${s.median.toFixed(digits)} (${s.min.toFixed(digits)}–${s.max.toFixed(digits)})`

/** The ratio of two medians, or n/a. */
export const ratio = (a: Stats | undefined, b: Stats | undefined, digits = 2): string =>
  a === undefined || b === undefined || Number.isNaN(a.median) || Number.isNaN(b.median) ? "n/a" : (a.median / b.median).toFixed(digits)

/** Python 3.11+ (asyncio.TaskGroup) for the asyncio column; without it the column reads n/a. */
export const hasAsyncio = (): boolean => {
  try {
    execFileSync("python3", ["-c", "import asyncio; asyncio.TaskGroup"], { stdio: "ignore" })
    return true
  } catch {
    console.error("python3 >= 3.11 not found: the asyncio column will read n/a")
    return false
  }
}
