/**
 * A small build-like graph of real programs:
 *
 *   workdir ─┬─> generate sources ─┬─> compress part1 ─┐
 *            │                     ├─> compress part2 ─┼─> checksums
 *            │                     └─> compress part3 ─┴─> test archives
 *
 * Every line the programs print becomes an output event of its task (shown
 * here as plain `[task] line` lines). The work directory is a scoped
 * resource: it is deleted once the last task that uses it is done.
 *
 *   npx tsx examples/processes.ts          # succeeds
 *   npx tsx examples/processes.ts --fail   # corrupts part2.txt.gz: "test archives" fails with gzip's stderr tail
 */
import * as fs from "node:fs/promises"
import * as os from "node:os"
import * as path from "node:path"
import { NodeRuntime } from "@effect/platform-node"
import { Console, Context, Effect, Stream } from "effect"
import { RunReport, Task, TaskGraph } from "../src/index.js"
import * as Process from "../src/Process.js"

class Workdir extends Context.Tag("Workdir")<Workdir, string>() {}
class Sources extends Context.Tag("Sources")<Sources, ReadonlyArray<string>>() {}

const parts = [1, 2, 3]
const fail = process.argv.includes("--fail")

const workdir = Task.make("workdir", {
  provides: Workdir,
  run: Effect.acquireRelease(
    Effect.promise(() => fs.mkdtemp(path.join(os.tmpdir(), "processes-example-"))),
    (dir) => Effect.promise(() => fs.rm(dir, { recursive: true, force: true }))
  )
})

const generate = Task.make("generate sources", {
  requires: [Workdir],
  provides: Sources,
  run: Effect.gen(function*() {
    const cwd = yield* Workdir
    yield* Process.run("sh", [
      "-c",
      `for i in ${parts.join(" ")}; do seq 1 $((i * 100000)) > "part$i.txt"; echo "wrote part$i.txt"; done`
    ], { cwd })
    return parts.map((i) => `part${i}.txt`)
  })
})

const compress = parts.map((i) =>
  Task.make(`compress part${i}`, {
    requires: [Workdir, Sources],
    // gzip -v reports the ratio on stderr: it shows up as this task's stderr
    run: Effect.gen(function*() {
      const cwd = yield* Workdir
      yield* Process.run("gzip", ["-9", "-k", "-v", `part${i}.txt`], { cwd })
      if (fail && i === 2) {
        yield* Process.run("dd", ["of=part2.txt.gz", "bs=1", "seek=100", "conv=notrunc", "status=none"], {
          cwd,
          input: "garbage"
        })
      }
    })
  })
)

const checksums = Task.make("checksums", {
  requires: [Workdir],
  after: compress,
  run: Effect.flatMap(Workdir, (cwd) =>
    Process.run("sha256sum", parts.map((i) => `part${i}.txt.gz`), { cwd, collect: true }).pipe(
      Effect.map((result) => result.stdout.split("\n").length)
    ))
})

const test = Task.make("test archives", {
  requires: [Workdir],
  after: compress,
  run: Effect.gen(function*() {
    const cwd = yield* Workdir
    yield* Process.run("sh", [
      "-c",
      `status=0
       for f in part*.txt.gz; do
         if gzip -t "$f"; then echo "$f: $(zcat "$f" | wc -l) lines"; else status=1; fi
       done
       exit $status`
    ], { cwd })
  })
})

const graph = TaskGraph.make("build archives", [workdir, generate, ...compress, checksums, test])

const main = Effect.scoped(Effect.gen(function*() {
  const handle = yield* TaskGraph.start(graph, { concurrency: 4 })
  yield* handle.events.pipe(
    Stream.runForEach((event) => {
      switch (event._tag) {
        case "TaskOutput":
          return Console.log(`[${event.task}] ${event.stream === "stderr" ? "! " : ""}${event.line}`)
        case "TaskStarted":
        case "TaskReady":
        case "TaskFailed":
        case "TaskReleased":
          return Console.log(`[${event.task}] -- ${event._tag.slice(4).toLowerCase()}`)
        default:
          return Effect.void
      }
    }),
    Effect.fork
  )
  const report = yield* handle.await.pipe(
    Effect.catchTag("RunFailedError", (error) =>
      Effect.as(
        Console.error(error.failures.map((f) => `\n${f.task} failed:\n${String(f.cause)}`).join("\n")),
        error.report
      ))
  )
  yield* Console.log(`\n${RunReport.summary(report)}`)
  if (report.status !== "succeeded") return yield* Effect.fail("build failed")
}))

NodeRuntime.runMain(main)
