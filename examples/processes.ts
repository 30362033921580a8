/**
 * A small build-like graph of real programs:
 *
 *   workdir ─┬─> generate sources ─┬─> compress part1 ─┐
 *            │                     ├─> compress part2 ─┼─> checksums
 *            │                     └─> compress part3 ─┴─> test archives
 *
 * Every line the programs print becomes an output event of its task, shown
 * by the reporter `Main.runMain` picks: the live view on a terminal, plain
 * `[task] line` lines in CI or a pipe. The work directory is a scoped
 * resource: it is deleted once the last task that uses it is done.
 *
 *   npx tsx examples/processes.ts          # succeeds
 *   npx tsx examples/processes.ts --fail   # corrupts part2.txt.gz: "test archives" fails with gzip's stderr tail
 *   npx tsx examples/processes.ts | cat    # plain output
 *   npx effect-taskgraph run examples/processes.ts --dry-run   # the plan, nothing runs
 */
import * as fs from "node:fs/promises"
import * as os from "node:os"
import * as path from "node:path"
import { Context, Effect } from "effect"
import { Process, Task, TaskGraph } from "effect-taskgraph"
import { Main } from "effect-taskgraph/node"

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

// `npx effect-taskgraph run examples/processes.ts` imports the graph from here
export default graph

// Run directly: the live view on a terminal, plain `[task] line` lines in CI
// or a pipe; the summary at the end; Ctrl+C stops everything cleanly (twice:
// at once).
if (Main.isMain(import.meta.url)) Main.runMain(graph, { concurrency: 4 })
