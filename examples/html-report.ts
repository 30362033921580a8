/**
 * A small build graph that writes a self-contained HTML report of its run:
 * the executed graph, the timeline, every task's output. Open the file in
 * any browser (it works offline, it makes no request).
 *
 *   npx tsx examples/html-report.ts            # succeeds; writes .taskgraph/html-report.html
 *   npx tsx examples/html-report.ts --fail     # "unit tests" fails, "package" is skipped (mode continue)
 *   npx tsx examples/html-report.ts --out FILE # somewhere else
 *
 * The same graph, planned only: `npx effect-taskgraph run examples/html-report.ts --dry-run --html graph.html`.
 */
import { Context, Effect } from "effect"
import { parseArgs } from "node:util"
import { Task, TaskGraph } from "effect-taskgraph"
import { Main } from "effect-taskgraph/node"

const { values: args } = parseArgs({
  options: { fail: { type: "boolean", default: false }, out: { type: "string", default: ".taskgraph/html-report.html" } }
})

class Source extends Context.Tag("Source")<Source, { readonly files: number }>() {}
class Binary extends Context.Tag("Binary")<Binary, { readonly path: string }>() {}

const step = (line: string, ms: number) => Effect.zipRight(Effect.sleep(ms), Effect.log(line))

const checkout = Task.make("checkout", {
  provides: Source,
  run: Effect.gen(function*() {
    yield* step("cloning into work/ …", 40)
    yield* step("checked out 12 files", 30)
    return { files: 12 }
  })
})

const compile = Task.make("compile", {
  requires: [Source],
  provides: Binary,
  run: Effect.gen(function*() {
    const { files } = yield* Source
    for (let i = 1; i <= files; i++) yield* step(`cc -O2 -c src/part${i}.c`, 15)
    // output is shown as text, never as markup
    yield* Effect.logWarning("src/part7.c:3: warning: unused <script> tag in a comment")
    return { path: "build/app" }
  }).pipe(Effect.acquireRelease(() => Effect.log("removing build/ (compile released)")))
})

const lint = Task.make("lint", { requires: [Source], run: step("lint: 0 problems", 120) })

const unitTests = Task.make("unit tests", {
  requires: [Binary],
  run: Effect.gen(function*() {
    yield* step("ok 1 - parses the config", 30)
    yield* step("ok 2 - adds numbers", 30)
    if (args.fail) {
      yield* step("not ok 3 - rounds halves up: expected 3, got 2", 20)
      return yield* Effect.fail(new Error("1 of 3 tests failed: rounds halves up"))
    }
    yield* step("ok 3 - rounds halves up", 20)
  })
})

const pkg = Task.make("package", {
  requires: [Binary],
  after: [unitTests, lint],
  run: step("wrote dist/app.tar.gz", 50)
})

const graph = TaskGraph.make("build and test", [checkout, compile, lint, unitTests, pkg])
export default graph

if (Main.isMain(import.meta.url)) {
  Main.runMain(graph, { html: args.out, mode: "continue" })
}
