/**
 * The scheduler's ready heap (src/internal/readyQueue.ts): highest first (the
 * longest path ahead, then the task listed first), and `removeAt`, which the
 * pool path uses to start a task further down the heap.
 */
import { describe, expect, it } from "vitest"
import { FastCheck } from "effect"
import * as ReadyQueue from "../../../src/internal/readyQueue.js"

/** The order the heap must pop: height descending, then index ascending. */
const expected = (height: Int32Array, tasks: ReadonlyArray<number>) =>
  [...tasks].sort((a, b) => (ReadyQueue.before(height, a, b) ? -1 : ReadyQueue.before(height, b, a) ? 1 : 0))

const drain = (queue: ReadyQueue.ReadyQueue) => {
  const out: Array<number> = []
  while (queue.size() > 0) out.push(queue.pop())
  return out
}

describe("ReadyQueue", () => {
  it("pops the task with the longest path ahead first, ties to the task listed first", () => {
    const height = Int32Array.from([1, 3, 3, 2, 5])
    const queue = ReadyQueue.make(5, height)
    for (const i of [0, 1, 2, 3, 4]) queue.push(i)
    expect(queue.size()).toBe(5)
    expect(queue.at(0)).toBe(4)
    expect(drain(queue)).toEqual([4, 1, 2, 3, 0])
  })

  it("before: a longer path ahead wins; as long, the lower index wins; never both ways", () => {
    const height = Int32Array.from([2, 2, 7])
    expect(ReadyQueue.before(height, 2, 0)).toBe(true)
    expect(ReadyQueue.before(height, 0, 1)).toBe(true)
    expect(ReadyQueue.before(height, 1, 0)).toBe(false)
    expect(ReadyQueue.before(height, 0, 0)).toBe(false)
  })

  it("at(k) walks the whole heap, and removeAt(k) takes exactly that task, keeping the order of the rest", () => {
    const height = Int32Array.from([4, 1, 3, 3, 9, 0, 2])
    const queue = ReadyQueue.make(7, height)
    for (let i = 0; i < 7; i++) queue.push(i)
    const seen = Array.from({ length: queue.size() }, (_, k) => queue.at(k)).sort()
    expect(seen).toEqual([0, 1, 2, 3, 4, 5, 6])
    const k = Array.from({ length: queue.size() }, (_, k) => k).find((k) => queue.at(k) === 3)!
    expect(queue.removeAt(k)).toBe(3)
    expect(drain(queue)).toEqual(expected(height, [0, 1, 2, 4, 5, 6]))
  })

  it("any mix of pushes, pops and removals pops in priority order (property)", () => {
    const op = FastCheck.oneof(
      FastCheck.record({ kind: FastCheck.constant("pop" as const), at: FastCheck.nat() }),
      FastCheck.record({ kind: FastCheck.constant("remove" as const), at: FastCheck.nat() })
    )
    FastCheck.assert(
      FastCheck.property(
        FastCheck.array(FastCheck.integer({ min: 0, max: 6 }), { minLength: 1, maxLength: 40 }),
        FastCheck.array(op, { maxLength: 20 }),
        (heights, ops) => {
          const n = heights.length
          const height = Int32Array.from(heights)
          const queue = ReadyQueue.make(n, height)
          const inside = new Set<number>()
          for (let i = 0; i < n; i++) {
            queue.push(i)
            inside.add(i)
          }
          for (const { at, kind } of ops) {
            if (queue.size() === 0) break
            if (kind === "pop") {
              const top = queue.pop()
              expect(top).toBe(expected(height, [...inside])[0])
              inside.delete(top)
            } else {
              const k = at % queue.size()
              const task = queue.at(k)
              expect(queue.removeAt(k)).toBe(task)
              inside.delete(task)
            }
          }
          expect(queue.size()).toBe(inside.size)
          expect(drain(queue)).toEqual(expected(height, [...inside]))
        }
      )
    )
  })
})
