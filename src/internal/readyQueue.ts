/**
 * The tasks that are ready to start, highest first: a binary heap of task
 * indices ordered by the length of the longest path from the task to the end
 * of the graph (its height), then by index.
 *
 * Starting the task with the most work behind it first is the classic
 * critical-path list-scheduling rule: when a burst of tasks becomes ready at
 * once, or a concurrency limit or a pool holds some back, the chain that sets
 * the run's length is not made to wait behind short side branches. Ties go to
 * the task listed first in the graph.
 *
 * Mutable and index-based on purpose: it is the scheduler's hot path, private
 * to it (a 100k-task fan-out pushes and pops 100k entries in one burst).
 *
 * @internal
 */

/** @internal */
export interface ReadyQueue {
  readonly size: () => number
  readonly push: (task: number) => void
  /** Removes and returns the highest task (the queue must not be empty). */
  readonly pop: () => number
  /** The task at heap position k (0 is the highest; the rest in heap order, not sorted). */
  readonly at: (k: number) => number
  /** Removes and returns the task at heap position k. */
  readonly removeAt: (k: number) => number
}

/** Does task a start before task b: a longer path ahead, or as long and listed first? @internal */
export const before = (height: Int32Array, a: number, b: number): boolean =>
  height[a]! > height[b]! || (height[a] === height[b] && a < b)

/** A queue for `n` tasks with the given heights; each task is pushed at most once at a time. */
export const make = (n: number, height: Int32Array): ReadyQueue => {
  const heap = new Int32Array(Math.max(1, n))
  let size = 0
  const above = (a: number, b: number) => before(height, a, b)
  const up = (k: number) => {
    const task = heap[k]!
    while (k > 0) {
      const parent = (k - 1) >> 1
      if (!above(task, heap[parent]!)) break
      heap[k] = heap[parent]!
      k = parent
    }
    heap[k] = task
  }
  const down = (k: number) => {
    const task = heap[k]!
    for (;;) {
      const left = 2 * k + 1
      if (left >= size) break
      const right = left + 1
      const child = right < size && above(heap[right]!, heap[left]!) ? right : left
      if (!above(heap[child]!, task)) break
      heap[k] = heap[child]!
      k = child
    }
    heap[k] = task
  }
  const removeAt = (k: number): number => {
    const task = heap[k]!
    size--
    if (k < size) {
      heap[k] = heap[size]!
      down(k)
      up(k)
    }
    return task
  }
  return {
    size: () => size,
    push: (task) => {
      heap[size] = task
      up(size++)
    },
    pop: () => removeAt(0),
    at: (k) => heap[k]!,
    removeAt
  }
}
