/**
 * Pool accounting for one run: how much of each named pool is free, whether
 * a task fits, and which queued task to start when the highest one does not.
 *
 * A task takes its weights (`Task.make(…, { pools: { vm: 1 } })`) when it
 * starts and gives them back when it has nothing left (its resources are
 * released), so a pool bounds what is *held*, not only what runs.
 *
 * Mutable on purpose: one ledger per run, private to the scheduler, updated
 * from its synchronous callbacks.
 *
 * @internal
 */
import * as ReadyQueue from "./readyQueue.js"

/** @internal */
export interface Pools {
  /** Does task i fit in what is free now? */
  readonly fits: (i: number) => boolean
  /** Task i starts: it takes its weights. */
  readonly take: (i: number) => void
  /** Task i is done: it gives its weights back. */
  readonly give: (i: number) => void
  /** What is free in a pool now (for tests). */
  readonly free: (pool: string) => number
}

/**
 * A ledger for pools of the given sizes; `weights(i)` are task i's weights.
 * `undefined` when there are no pools: the scheduler then never consults one.
 *
 * @internal
 */
export const make = (
  sizes: Readonly<Record<string, number>>,
  weights: (i: number) => Readonly<Record<string, number>>
): Pools | undefined => {
  const names = Object.keys(sizes)
  if (names.length === 0) return undefined
  const free = new Map<string, number>(names.map((pool) => [pool, sizes[pool]!]))
  const add = (i: number, sign: 1 | -1) => {
    const want = weights(i)
    for (const pool in want) free.set(pool, free.get(pool)! + sign * want[pool]!)
  }
  return {
    fits: (i) => {
      const want = weights(i)
      for (const pool in want) if (free.get(pool)! < want[pool]!) return false
      return true
    },
    take: (i) => add(i, -1),
    give: (i) => add(i, 1),
    free: (pool) => free.get(pool) ?? 0
  }
}

/** `pick` found nothing to start now. @internal */
export const NOTHING = -1
/** `pick`: the top of the queue is stale (skipped since it was queued) and must be popped. @internal */
export const STALE_TOP = -2

/**
 * Which queued task to start when pools are in use: the heap position of the
 * highest queued task that fits (no head-of-line blocking: a task that does
 * not fit holds back nothing), `STALE_TOP` when the top entry is no longer
 * queued, `NOTHING` when no queued task fits.
 *
 * `isQueued(i)` tells whether task i is still waiting to start (a task may be
 * skipped after it was queued; its entry is dropped when it comes up).
 *
 * @internal
 */
export const pick = (
  pools: Pools,
  queue: ReadyQueue.ReadyQueue,
  height: Int32Array,
  isQueued: (i: number) => boolean
): number => {
  const top = queue.at(0)
  if (!isQueued(top)) return STALE_TOP
  if (pools.fits(top)) return 0 // the highest fits: no need to look further
  let picked = NOTHING
  for (let k = 1; k < queue.size(); k++) {
    const i = queue.at(k)
    if (!isQueued(i) || !pools.fits(i)) continue
    if (picked < 0 || ReadyQueue.before(height, i, queue.at(picked))) picked = k
  }
  return picked
}
