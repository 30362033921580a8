/**
 * CPU-heavy work per file on worker threads, as a graph:
 *
 *   input files ──> scan ──────────┐
 *   worker pool ───────────────────┼─> digest files ──> write manifest
 *   output dir ────────────────────┘
 *
 * "digest files" computes sha256 + gzip -9 of every file on a WorkerPool (one
 * thread per core), printing one progress line per file, while the main
 * thread stays free: a 100 ms ticker on the main thread keeps printing how
 * late it runs. `Main.runMain` runs it with the reporters (the live view on a
 * terminal, plain lines in CI and pipes) and exits with its code: Ctrl+C
 * interrupts the graph, the busy threads are terminated (within ~100 ms), the
 * pool is closed, the temporary directories deleted, and it exits 130.
 *
 *   npx tsx examples/images.ts                   # 12 generated files of 2 MB
 *   npx tsx examples/images.ts --files 24 --mb 4
 *   npx tsx examples/images.ts --dir ~/Pictures  # scan a directory of yours (read only)
 *   npx tsx examples/images.ts --stop-after 500  # sends itself SIGINT (what Ctrl+C does) 500 ms into the digest
 */
import { Context, Effect, Exit } from "effect"
import { randomBytes, randomInt } from "node:crypto"
import * as fs from "node:fs/promises"
import * as os from "node:os"
import * as path from "node:path"
import { Task, TaskGraph } from "effect-taskgraph"
import { Main } from "effect-taskgraph/node"
import { WorkerPool } from "effect-taskgraph/workers"
import { Digest } from "./images.worker.js"

const arg = (name: string): string | undefined => {
  const i = process.argv.indexOf(`--${name}`)
  return i === -1 ? undefined : process.argv[i + 1]
}
const fileCount = Number(arg("files") ?? 12)
const megabytes = Number(arg("mb") ?? 2)
const userDir = arg("dir")
const stopAfter = arg("stop-after")

/** When the run was interrupted (Ctrl+C), to show how fast the workers stop. */
let interruptedAt: number | undefined

class InputDir extends Context.Tag("InputDir")<InputDir, string>() {}
class OutputDir extends Context.Tag("OutputDir")<OutputDir, string>() {}
class Files extends Context.Tag("Files")<Files, ReadonlyArray<{ readonly path: string; readonly bytes: number }>>() {}
class Digesters extends Context.Tag("Digesters")<Digesters, WorkerPool.WorkerPool<Digest>>() {}
class Digests extends Context.Tag("Digests")<
  Digests,
  ReadonlyArray<{ readonly file: string; readonly bytes: number; readonly sha256: string; readonly gzipBytes: number }>
>() {}

const tempDir = (prefix: string) =>
  Effect.acquireRelease(
    Effect.promise(() => fs.mkdtemp(path.join(os.tmpdir(), prefix))),
    (dir) => Effect.promise(() => fs.rm(dir, { recursive: true, force: true }))
  )

/** Text of random words (compresses to about a quarter, slowly at gzip -9). */
const sampleContent = (bytes: number): Buffer => {
  const letters = "abcdefghijklmnopqrstuvwxyz"
  const vocabulary = Array.from({ length: 256 }, () =>
    Array.from({ length: 3 + randomInt(7) }, () => letters[randomInt(26)]).join(""))
  const picks = randomBytes(bytes)
  const out = Buffer.alloc(bytes)
  let at = 0
  for (let i = 0; at < bytes; i++) at += out.write(vocabulary[picks[i]!]! + (i % 12 === 11 ? "\n" : " "), at)
  return out
}

const input = Task.make("input files", {
  provides: InputDir,
  run: userDir !== undefined
    ? Effect.succeed(path.resolve(userDir.replace(/^~/, os.homedir())))
    : Effect.gen(function*() {
      const dir = yield* tempDir("images-input-")
      for (let i = 0; i < fileCount; i++) {
        yield* Effect.promise(() =>
          fs.writeFile(path.join(dir, `file-${String(i).padStart(2, "0")}.txt`), sampleContent(megabytes << 20))
        )
      }
      yield* Task.output(`generated ${fileCount} files of ${megabytes} MB in ${dir}`)
      return dir
    })
})

const output = Task.make("output dir", { provides: OutputDir, run: tempDir("images-output-") })

const pool = Task.make("worker pool", {
  provides: Digesters,
  run: Effect.gen(function*() {
    // added before the pool, so run after it is closed (finalizers run in reverse order)
    yield* Effect.addFinalizer(() =>
      Effect.suspend(() =>
        Task.output(
          "all worker threads stopped" +
            (interruptedAt === undefined ? "" : `, ${(performance.now() - interruptedAt).toFixed(0)} ms after Ctrl+C`)
        )
      )
    )
    const t0 = performance.now()
    const pool = yield* WorkerPool.make<Digest>({ entry: new URL("./images.worker.ts", import.meta.url) })
    yield* Task.output(`${pool.size} worker threads ready in ${(performance.now() - t0).toFixed(0)} ms`)
    return pool
  })
})

const scan = Task.make("scan", {
  requires: [InputDir],
  provides: Files,
  run: Effect.gen(function*() {
    const dir = yield* InputDir
    const entries = yield* Effect.promise(() => fs.readdir(dir, { withFileTypes: true }))
    const files = yield* Effect.forEach(entries.filter((e) => e.isFile()), (e) =>
      Effect.promise(async () => {
        const p = path.join(dir, e.name)
        return { path: p, bytes: (await fs.stat(p)).size }
      }))
    yield* Task.output(`found ${files.length} files`)
    return files
  })
})

/**
 * A main-thread timer: how late does it run while the workers compute? With
 * the work on the main thread it would be late by a whole file's digest.
 */
const ticker = Effect.acquireRelease(
  Effect.sync(() => {
    const state = { last: performance.now(), worst: 0, timer: undefined as NodeJS.Timeout | undefined }
    state.timer = setInterval(() => {
      const now = performance.now()
      state.worst = Math.max(state.worst, now - state.last - 50)
      state.last = now
    }, 50)
    return state
  }),
  (state) =>
    Effect.sync(() => clearInterval(state.timer)).pipe(
      Effect.zipRight(Task.output(`main event loop: a 50 ms timer ran at most ${state.worst.toFixed(0)} ms late`))
    )
)

const digest = Task.make("digest files", {
  requires: [Files, Digesters, OutputDir],
  provides: Digests,
  run: Effect.gen(function*() {
    const [files, pool, out] = yield* Effect.all([Files, Digesters, OutputDir])
    yield* ticker
    if (stopAfter !== undefined) {
      setTimeout(() => {
        console.log(`-- sending SIGINT to myself (--stop-after ${stopAfter})`)
        interruptedAt = performance.now()
        process.kill(process.pid, "SIGINT")
      }, Number(stopAfter)).unref()
    }
    let done = 0
    yield* Effect.addFinalizer((exit) =>
      Effect.sync(() => {
        if (Exit.isInterrupted(exit)) interruptedAt ??= performance.now()
      })
    )
    return yield* Effect.forEach(files, (file) =>
      pool.execute(new Digest({ path: file.path, gzipPath: path.join(out, `${path.basename(file.path)}.gz`) })).pipe(
        Effect.tap((d) => {
          done++
          const ratio = ((100 * d.gzipBytes) / Math.max(1, d.bytes)).toFixed(0)
          return Task.output(
            `[${done}/${files.length}] ${path.basename(file.path)} sha256 ${d.sha256.slice(0, 12)}… ` +
              `gzip ${ratio}% (${d.millis.toFixed(0)} ms in a worker)`
          )
        }),
        Effect.map((d) => ({ file: path.basename(file.path), bytes: d.bytes, sha256: d.sha256, gzipBytes: d.gzipBytes }))
      ), { concurrency: pool.size * 2 }) // keep every thread busy
  })
})

const manifest = Task.make("write manifest", {
  requires: [Digests, OutputDir],
  run: Effect.gen(function*() {
    const [digests, out] = yield* Effect.all([Digests, OutputDir])
    const file = path.join(out, "manifest.json")
    yield* Effect.promise(() => fs.writeFile(file, JSON.stringify(digests, null, 2)))
    const total = digests.reduce((n, d) => n + d.bytes, 0)
    const gz = digests.reduce((n, d) => n + d.gzipBytes, 0)
    yield* Task.output(`manifest of ${digests.length} files: ${(total / 2 ** 20).toFixed(1)} MB -> ${(gz / 2 ** 20).toFixed(1)} MB gzip`)
    return digests.length
  })
})

const graph = TaskGraph.make("digest images", [input, output, pool, scan, digest, manifest])

Main.runMain(graph)
