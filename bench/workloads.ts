/**
 * Deterministic, seeded workloads shared by every runner in the benchmark.
 * A workload is a list of dependency lists: deps[i] are the tasks i needs,
 * always with smaller indices (so every workload is a DAG).
 */

export type Shape = "chain" | "fanout" | "lattice" | "random"
export const shapes: ReadonlyArray<Shape> = ["chain", "fanout", "lattice", "random"]

/** mulberry32: a tiny seeded PRNG, so every runner sees the same graph. */
export const prng = (seed: number) => () => {
  seed |= 0
  seed = (seed + 0x6d2b79f5) | 0
  let t = Math.imul(seed ^ (seed >>> 15), 1 | seed)
  t = (t + Math.imul(t ^ (t >>> 7), 61 | t)) ^ t
  return ((t ^ (t >>> 14)) >>> 0) / 4294967296
}

export const workload = (shape: Shape, n: number, seed = 42): Array<Array<number>> => {
  const random = prng(seed)
  const deps: Array<Array<number>> = []
  switch (shape) {
    case "chain":
      for (let i = 0; i < n; i++) deps.push(i === 0 ? [] : [i - 1])
      break
    case "fanout": {
      deps.push([])
      for (let i = 1; i < n - 1; i++) deps.push([0])
      deps.push(Array.from({ length: n - 2 }, (_, k) => k + 1))
      break
    }
    case "lattice": {
      const width = Math.max(1, Math.round(Math.sqrt(n)))
      for (let i = 0; i < n; i++) {
        const layer = Math.floor(i / width)
        if (layer === 0) {
          deps.push([])
          continue
        }
        const prevStart = (layer - 1) * width
        const a = prevStart + Math.floor(random() * width)
        let b = prevStart + Math.floor(random() * width)
        if (b === a) b = prevStart + ((b - prevStart + 1) % width)
        deps.push(a === b ? [a] : [a, b])
      }
      break
    }
    case "random":
      for (let i = 0; i < n; i++) {
        const k = i === 0 ? 0 : Math.floor(random() * 4)
        const set = new Set<number>()
        for (let j = 0; j < k; j++) set.add(Math.floor(random() * i))
        deps.push([...set])
      }
      break
  }
  return deps
}

/** Per-task sleep durations (0-5 ms) for the `sleep` body. */
export const sleeps = (n: number, seed = 7): Array<number> => {
  const random = prng(seed)
  return Array.from({ length: n }, () => Math.floor(random() * 6))
}

/** The longest path through the graph, summing each task's duration. */
export const criticalPath = (deps: ReadonlyArray<ReadonlyArray<number>>, duration: ReadonlyArray<number>): number => {
  const finish = new Float64Array(deps.length)
  let longest = 0
  for (let i = 0; i < deps.length; i++) {
    let start = 0
    for (const d of deps[i]!) start = Math.max(start, finish[d]!)
    finish[i] = start + duration[i]!
    longest = Math.max(longest, finish[i]!)
  }
  return longest
}
