/**
 * Many small synchronous steps: a digest of 20,000 chunks of data. Each
 * chunk's hash is a `Task.sync` task, a plain function the scheduler calls
 * itself, with no fiber per task; blocks of 100 hashes are `Task.sync` tasks
 * too, reading the chunks' tags from the services they are given, and one
 * `Task.make` task combines the blocks.
 *
 * The same graph is then built with `Task.make` + `Effect.sync` for every
 * chunk and block: same digest, and the time of each run is printed (the
 * second run is in a process the first one warmed up; bench/ has the fair
 * comparison).
 *
 * Run: npx tsx examples/sync-tasks.ts [chunks]
 */
import { Context, Effect, Option } from "effect"
import { RunReport, Task, TaskGraph } from "effect-taskgraph"

const chunks = Number(process.argv[2] ?? 20_000)
if (!Number.isInteger(chunks) || chunks < 100 || chunks % 100 !== 0) {
  console.error(`usage: npx tsx examples/sync-tasks.ts [chunks], a multiple of 100, got ${process.argv[2]}`)
  process.exit(2)
}

/** A small hash of chunk i (FNV-1a over its bytes): the work each task has to do. */
const hashChunk = (i: number): number => {
  let h = 2166136261
  for (let b = 0; b < 64; b++) {
    h ^= (i * 31 + b) & 0xff
    h = Math.imul(h, 16777619) >>> 0
  }
  return h
}
const combine = (hashes: ReadonlyArray<number>): number => hashes.reduce((a, h) => (Math.imul(a, 31) + h) >>> 0, 7)

type Chunk = Context.Tag<"Chunk", number>
const tags: ReadonlyArray<Chunk> = Array.from({ length: chunks }, (_, i) => Context.GenericTag<"Chunk", number>(`chunk ${i}`))
const blockTags = Array.from({ length: chunks / 100 }, (_, b) => Context.GenericTag<"Block", number>(`block ${b}`))

/** The graph, its chunks and blocks as `Task.sync` tasks or as `Task.make` tasks. */
const digestGraph = (kind: "Task.sync" | "Task.make") => {
  const hashes = tags.map((tag, i) =>
    kind === "Task.sync"
      ? Task.sync(`hash ${i}`, { provides: tag, run: () => hashChunk(i) })
      : Task.make(`hash ${i}`, { provides: tag, run: Effect.sync(() => hashChunk(i)) })
  )
  const blocks = blockTags.map((tag, b) => {
    const mine = tags.slice(b * 100, b * 100 + 100)
    return kind === "Task.sync"
      ? Task.sync(`block ${b}`, { provides: tag, requires: mine, run: (services) => combine(mine.map((t) => Context.get(services, t))) })
      : Task.make(`block ${b}`, { provides: tag, requires: mine, run: Effect.map(Effect.all(mine), combine) })
  })
  const total = Task.make("digest", { requires: blockTags, run: Effect.map(Effect.all(blockTags), combine) })
  return { graph: TaskGraph.make("digest", [...hashes, ...blocks, total]), total }
}

const timed = <P>(label: string, { graph, total }: {
  readonly graph: TaskGraph.TaskGraph<never, never, P>
  readonly total: Task.Task<number, never, "Block", never, "Block">
}) =>
  Effect.gen(function*() {
    const t0 = performance.now()
    const report = yield* TaskGraph.run(graph)
    const ms = performance.now() - t0
    const digest = Option.getOrThrow(RunReport.value(report, total))
    console.log(`${label}: ${report.tasks.length} tasks ${report.status} in ${ms.toFixed(0)} ms, digest ${digest.toString(16)}`)
    return digest
  })

const program = Effect.gen(function*() {
  const plain = yield* timed("Task.sync", digestGraph("Task.sync"))
  const fibers = yield* timed("Task.make + Effect.sync (warm process)", digestGraph("Task.make"))
  console.log(`digest of ${chunks} chunks: ${plain.toString(16)}; same digest both ways: ${plain === fibers}`)
})

Effect.runPromise(program).catch((error) => {
  console.error(error)
  process.exit(1)
})
