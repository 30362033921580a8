/**
 * Pool accounting (src/internal/pools.ts): weights taken on start and given
 * back when done, and the pick of the highest queued task that fits.
 */
import { describe, expect, it } from "vitest"
import * as Pools from "../../../src/internal/pools.js"
import * as ReadyQueue from "../../../src/internal/readyQueue.js"

const ledger = (sizes: Record<string, number>, weights: ReadonlyArray<Record<string, number>>) =>
  Pools.make(sizes, (i) => weights[i]!)

describe("Pools", () => {
  it("is undefined without pools: the scheduler never consults a ledger then", () => {
    expect(Pools.make({}, () => ({}))).toBeUndefined()
  })

  it("take and give move a task's weights; fits compares them with what is free", () => {
    const pools = ledger({ vm: 2, disk: 1 }, [{ vm: 2 }, { vm: 1, disk: 1 }, {}])!
    expect(pools.fits(0)).toBe(true)
    pools.take(0)
    expect(pools.free("vm")).toBe(0)
    expect(pools.fits(1)).toBe(false)
    expect(pools.fits(2)).toBe(true) // a task that uses no pool always fits
    pools.give(0)
    expect(pools.free("vm")).toBe(2)
    pools.take(1)
    expect([pools.free("vm"), pools.free("disk")]).toEqual([1, 0])
    expect(pools.fits(0)).toBe(false)
  })

  describe("pick", () => {
    // heights: 0 is highest, then 1, then 2, then 3
    const height = Int32Array.from([9, 5, 3, 1])
    const queueOf = (tasks: ReadonlyArray<number>) => {
      const queue = ReadyQueue.make(4, height)
      for (const i of tasks) queue.push(i)
      return queue
    }
    const all = () => true

    it("the top when it fits (position 0)", () => {
      const pools = ledger({ vm: 1 }, [{ vm: 1 }, { vm: 1 }, {}, {}])!
      expect(Pools.pick(pools, queueOf([0, 1, 2]), height, all)).toBe(0)
    })

    it("else the highest task further down that fits: one that does not fit holds back nothing", () => {
      const pools = ledger({ vm: 1, gpu: 1 }, [{ vm: 1 }, { gpu: 1 }, { gpu: 1 }, {}])!
      pools.take(0) // vm is full now: 0 and anything needing vm wait
      const queue = queueOf([0, 1, 2, 3])
      const k = Pools.pick(pools, queue, height, all)
      expect(queue.at(k)).toBe(1)
      pools.take(1) // gpu full too: only 3, which needs nothing, fits
      expect(queue.at(Pools.pick(pools, queue, height, all))).toBe(3)
    })

    it("STALE_TOP when the top was skipped since it was queued; stale entries below are passed over", () => {
      const pools = ledger({ vm: 1 }, [{ vm: 1 }, { vm: 1 }, {}, {}])!
      const queue = queueOf([0, 1, 2])
      expect(Pools.pick(pools, queue, height, (i) => i !== 0)).toBe(Pools.STALE_TOP)
      pools.take(0)
      const k = Pools.pick(pools, queue, height, (i) => i !== 2)
      expect(k).toBe(Pools.NOTHING) // 1 does not fit and 2 is stale
    })
  })
})
