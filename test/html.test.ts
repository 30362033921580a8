/**
 * The HTML report as a file: written at the end of every run, self-contained,
 * output shown as text, bad paths refused before anything runs, large graphs
 * condensed and bounded in size. (test/html-browser.test.ts opens the pages
 * in a real browser.)
 */
import * as fs from "node:fs"
import * as os from "node:os"
import * as path from "node:path"
import { describe, expect, it } from "@effect/vitest"
import { Deferred, Effect, Either, Fiber, Ref, Schedule } from "effect"
import { Reporter, Task, TaskEvent, TaskGraph } from "effect-taskgraph"
import { Main } from "effect-taskgraph/node"
import * as Graphs from "./html/graphs.js"
import { dataOf, read, runNested, runWithHtml } from "./html/report.js"

const tmp = () => fs.mkdtempSync(path.join(os.tmpdir(), "taskgraph-html-"))

describe("Reporter.html", () => {
  it.live("a successful run: one self-contained page (no external resource), every task with its output", () =>
    Effect.gen(function*() {
      const file = path.join(tmp(), "nested", "dir", "report.html") // directories that do not exist yet
      const result = yield* runWithHtml(Graphs.success(false), file)
      expect(Either.isRight(result)).toBe(true)
      const html = read(file)
      const data = dataOf(html)
      expect(data).toMatchObject({ kind: "run", graph: "build", outcome: "succeeded", exitCode: 0, condensed: false })
      expect(data.tasks.map((t) => [t.name, t.status])).toEqual([
        ["checkout", "released"],
        ["compile", "released"],
        ["lint", "released"],
        ["unit tests", "released"],
        ["package", "released"]
      ])
      // inlined: no src= or href= to anything but itself, no stylesheet link, no remote URL
      expect(html).not.toMatch(/<script[^>]+src=/)
      expect(html).not.toMatch(/<link[^>]+rel="stylesheet"/)
      expect(html).not.toMatch(/(?:src|href)="(?:https?:)?\/\//)
      // the drawing: one node per task with its status class, data edges labelled, precedences dashed
      expect(html.match(/<g class="node st-released[^"]*" data-i="\d+"/g)).toHaveLength(5)
      expect(html).toContain(`<path class="edge data`)
      expect(html).toContain(`<path class="edge precedence`)
      expect(html).toMatch(/<g class="elabel"[^>]*><title>Source<\/title>/)
      expect(html).toContain(`class="timeline"`)
      // the critical path: its nodes and the edges between them drawn as such, in the timeline too
      // (which of package's inputs finished last depends on timing: the path is checked against itself)
      const critical = data.criticalPath
      expect([critical[0], critical.at(-1)]).toEqual([0, 4])
      for (let i = 0; i < 5; i++) {
        expect(html).toMatch(new RegExp(`<g class="node st-released${critical.includes(i) ? " crit" : ""}" data-i="${i}"`))
      }
      for (let k = 1; k < critical.length; k++) {
        expect(html).toMatch(new RegExp(`<path class="edge (data|precedence) crit" data-from="${critical[k - 1]}" data-to="${critical[k]}"[^>]*marker-end="url\\(#arrow-crit\\)"`))
      }
      // lint is never on it (it waits for checkout only and finishes first): a plain dashed precedence into package
      expect(html).toMatch(/<path class="edge precedence" data-from="2" data-to="4"[^>]*marker-end="url\(#arrow\)"/)
      // resources held past ready (compile's acquireRelease, checkout's value): a lighter bar after the run bar
      const held = data.tasks[1]!
      expect(held.release! - held.ready!).toBeGreaterThanOrEqual(5) // its release takes 5 ms (test/html/graphs.ts)
      expect(html).toMatch(new RegExp(`<g class="trow" data-i="1"[^>]*>.*?<rect class="held st-released${critical.includes(1) ? " crit" : ""}"`))
      const compile = data.tasks.find((t) => t.name === "compile")!
      expect(compile.lines.map((l) => l[2])).toEqual([
        "cc -c main.c",
        `<script>document.title = "pwned"</script><img src=x onerror="document.title='pwned'">`,
        "red warning and a bell\u2407",
        "bad byte: \ufffd end"
      ])
      expect(compile.lines.map((l) => l[1])).toEqual([0, 1, 0, 0])
    }))

  it.live("output with markup is never markup in the page: only the page's own two scripts exist", () =>
    Effect.gen(function*() {
      const file = path.join(tmp(), "report.html")
      yield* runWithHtml(Graphs.success(false), file)
      const html = read(file)
      expect(html.match(/<script/g)).toHaveLength(2)
      expect(html).not.toContain("<img src=x")
      expect(html).toContain("\\u003cscript\\u003edocument.title")
      // no escape character left in the page
      expect(html).not.toContain("\x1b")
    }))

  it.live("a failed run (continue): the failure's message and Cause, the skipped task and what blocked it; exit code 1", () =>
    Effect.gen(function*() {
      const file = path.join(tmp(), "report.html")
      const result = yield* runWithHtml(Graphs.success(true), file, "continue")
      expect(Either.isLeft(result)).toBe(true)
      const html = read(file)
      const data = dataOf(html)
      expect(data).toMatchObject({ outcome: "failed", exitCode: 1 })
      const failed = data.tasks.find((t) => t.name === "unit tests")!
      expect(failed.status).toBe("failed")
      expect(failed.error).toBe("expected 3, got 2")
      expect(failed.cause).toContain("Error: expected 3, got 2")
      const skipped = data.tasks.find((t) => t.name === "package")!
      expect(skipped).toMatchObject({ status: "skipped", blockedBy: "unit tests" })
      // lint, independent of the failure, still finished
      expect(data.tasks.find((t) => t.name === "lint")!.status).toBe("released")
      expect(html).toContain(`<span class="failure-message">expected 3, got 2</span>`)
      expect(html).toMatch(/<g class="node st-failed[^"]*" data-i="3"/)
      expect(html).toMatch(/<g class="node st-skipped[^"]*" data-i="4"/)
    }))

  it.live("a failed run (fail-fast): what needed the failed task is blocked by it, the rest stopped by it", () =>
    Effect.gen(function*() {
      const file = path.join(tmp(), "report.html")
      // fails after a yield: docs has started by then
      const unit = Task.make("unit", { run: Effect.zipRight(Effect.yieldNow(), Effect.fail(new Error("2 tests failed"))) })
      const deploy = Task.make("deploy", { after: [unit], run: Effect.void })
      const docs = Task.make("docs", { run: Effect.never })
      yield* runWithHtml(TaskGraph.make("ff", [unit, deploy, docs]), file)
      expect(dataOf(read(file)).tasks.map((t) => [t.name, t.status, t.blockedBy, t.stoppedBy])).toEqual([
        ["unit", "failed", null, null],
        ["deploy", "skipped", "unit", null],
        ["docs", "interrupted", null, "unit"]
      ])
    }))

  it.live("an interrupted run is written too, with what was running marked interrupted", () =>
    Effect.gen(function*() {
      const file = path.join(tmp(), "report.html")
      const started = yield* Deferred.make<void>()
      const fiber = yield* Effect.fork(runWithHtml(Graphs.hanging(started), file))
      yield* Deferred.await(started)
      yield* Fiber.interrupt(fiber)
      const data = dataOf(read(file))
      expect(data.outcome).toBe("interrupted")
      expect(data.exitCode).toBe(130)
      expect(data.tasks.map((t) => t.status)).toEqual(["released", "interrupted", "skipped"])
      expect(data.tasks[1]!.lines.map((l) => l[2])).toEqual(["SLOW-TEST-STARTED"])
    }))

  it.live("a directory that cannot be made (under /proc) is a ReporterError before any task runs, not a hang", () =>
    Effect.gen(function*() {
      let ran = false
      const graph = TaskGraph.make("g", [Task.make("a", { run: Effect.sync(() => (ran = true)) })])
      const error = yield* Effect.flip(Main.run(graph, { reporter: [Reporter.html("/proc/taskgraph-nope/report.html")] }))
      expect(error._tag).toBe("ReporterError")
      expect(error.message).toContain("the html reporter cannot write")
      expect(error.message).toContain("/proc/taskgraph-nope")
      expect(ran).toBe(false)
    }))

  it.live("a path whose parent is a regular file is a ReporterError before any task runs", () =>
    Effect.gen(function*() {
      const dir = tmp()
      fs.writeFileSync(path.join(dir, "file"), "")
      let ran = false
      const graph = TaskGraph.make("g", [Task.make("a", { run: Effect.sync(() => (ran = true)) })])
      const error = yield* Effect.flip(Main.run(graph, { reporter: [Reporter.html(path.join(dir, "file", "report.html"))] }))
      expect(error._tag).toBe("ReporterError")
      expect(error.message).toContain("the html reporter cannot write")
      expect(error.message).toContain("a file is in the way of its directory")
      expect(ran).toBe(false)
    }))

  it.live("a directory in the way of the file is a ReporterError before any task runs", () =>
    Effect.gen(function*() {
      const dir = tmp()
      fs.mkdirSync(path.join(dir, "report.html"))
      let ran = false
      const graph = TaskGraph.make("g", [Task.make("a", { run: Effect.sync(() => (ran = true)) })])
      const error = yield* Effect.flip(Main.run(graph, { html: path.join(dir, "report.html"), reporter: [] }))
      expect(error.message).toContain("it is a directory")
      expect(ran).toBe(false)
    }))

  it.live("5,000 tasks: condensed drawing, every task in the data, under 10 MB", () =>
    Effect.gen(function*() {
      const file = path.join(tmp(), "large.html")
      yield* runWithHtml(Graphs.large(5000), file)
      const size = fs.statSync(file).size
      expect(size).toBeLessThan(10 * 1024 * 1024)
      const html = read(file)
      const data = dataOf(html)
      expect(data.condensed).toBe(true)
      expect(data.tasks).toHaveLength(5000)
      expect(data.tasks.every((t) => t.status === "released" && t.lines.length === 1)).toBe(true)
      expect(html).toContain(`class="condensed"`)
      expect(html).toContain("5000 tasks in 100 layers")
      expect(html).not.toContain(`<g class="node `)
    }), 60_000)

  it.live("each line says where it came from: stdout, stderr, a log line, a warning, an error", () =>
    Effect.gen(function*() {
      const file = path.join(tmp(), "report.html")
      yield* runWithHtml(Graphs.levels(), file)
      const [t] = dataOf(read(file)).tasks
      expect(t!.lines.map((l) => [l[1], l[2]])).toEqual([
        [0, "compiling"],
        [1, "note: slow disk"],
        [2, "3 files"],
        [3, "cache miss"],
        [4, "disk full"]
      ])
    }))

  it.live("a task's very long output keeps its head and tail and says how many lines were left out", () =>
    Effect.gen(function*() {
      const file = path.join(tmp(), "report.html")
      const noisy = Task.make("noisy", {
        run: Effect.forEach(Array.from({ length: 5000 }, (_, i) => i), (i) => Task.output(`line ${i}`), { discard: true })
      })
      yield* Main.run(TaskGraph.make("noisy", [noisy]), { reporter: [Reporter.html(file, { headLines: 10, tailLines: 100 })] })
      const [t] = dataOf(read(file)).tasks
      expect(t!.lines).toHaveLength(110)
      expect(t!.lines[9]![2]).toBe("line 9")
      expect(t!.lines[10]![2]).toBe("line 4900")
      expect(t!.lines[109]![2]).toBe("line 4999")
      expect((t as unknown as { omitted: number }).omitted).toBe(4890)
    }))
})

describe("Reporter.html: graphs run inside tasks, tags from the context", () => {
  it.live("each graph run inside a task is a labelled box of its tasks, joined to its task by a 'runs' edge", () =>
    Effect.gen(function*() {
      const file = path.join(tmp(), "report.html")
      yield* runNested(file)
      const html = read(file)
      const data = dataOf(html)
      expect(data.tasks.map((t) => [t.name, t.status, t.group === null ? null : data.groups[t.group]!.name])).toEqual([
        ["checkout", "released", null],
        ["tests", "released", null],
        ["tests / unit / build", "released", "tests / unit"],
        ["tests / unit / run", "released", "tests / unit"],
        ["tests / e2e / build", "released", "tests / e2e"],
        ["tests / e2e / run", "released", "tests / e2e"],
        ["tests / e2e / run / chromium / drive", "released", "tests / e2e / run / chromium"],
        ["package", "released", null]
      ])
      const index = (name: string) => data.tasks.findIndex((t) => t.name === name)
      const group = (name: string) => data.groups.findIndex((g) => g.name === name)
      expect(data.groups).toEqual([
        { name: "tests / unit", graph: "unit", task: index("tests"), parent: null },
        { name: "tests / e2e", graph: "e2e", task: index("tests"), parent: null },
        { name: "tests / e2e / run / chromium", graph: "chromium", task: index("tests / e2e / run"), parent: group("tests / e2e") }
      ])
      // one box per group, with its graph's name; nested tasks drawn by their own name
      expect(html.match(/<g class="group" data-group="\d+"/g)).toHaveLength(3)
      expect(html).toMatch(/<g class="group" data-group="0"[^>]*>.*?<text class="glabel"[^>]*>unit<\/text>/)
      expect(html.match(/<g class="node st-released nested" data-i="\d+"/g)).toHaveLength(5)
      expect(html).toMatch(new RegExp(`data-i="${index("tests / e2e / run / chromium / drive")}"[^>]*>.*?<text class="name"[^>]*>drive</text>`))
      // the runs edges: tests to its two groups, "e2e / run" to its own
      const runs = [...html.matchAll(/<path class="edge runs" data-from="(\d+)" data-group="(\d+)"/g)].map((m) => [Number(m[1]), Number(m[2])])
      expect(runs.sort()).toEqual([[index("tests"), 0], [index("tests"), 1], [index("tests / e2e / run"), 2]].sort())
      // the edges inside a group are the child graph's own
      expect(html).toContain(`<path class="edge precedence" data-from="${index("tests / unit / build")}" data-to="${index("tests / unit / run")}"`)
      // each line logged or printed by a nested task is there once
      expect(data.tasks[index("tests / unit / build")]!.lines.map((l) => l[2])).toEqual(["building unit"])
      expect(data.tasks[index("tests / unit / run")]!.lines.map((l) => l[2])).toEqual(["testing unit", "unit: 3 passed"])
      expect(data.tasks[index("tests / e2e / run / chromium / drive")]!.lines.map((l) => l[2])).toEqual(["driving chromium"])
    }))

  it.live("a retried task's second run of its child graph is a box of its own, labelled 'child #2'", () =>
    Effect.gen(function*() {
      const file = path.join(tmp(), "report.html")
      const attempts = yield* Ref.make(0)
      const child = TaskGraph.make("child", [Task.make("inner", { run: Effect.log("inner ran") })])
      const outer = Task.make("outer", {
        retry: Schedule.recurs(1),
        run: Effect.gen(function*() {
          yield* TaskGraph.run(child)
          if ((yield* Ref.updateAndGet(attempts, (k) => k + 1)) === 1) return yield* Effect.fail("flaky")
        })
      })
      expect(Either.isRight(yield* runWithHtml(TaskGraph.make("g", [outer]), file))).toBe(true)
      const html = read(file)
      const data = dataOf(html)
      expect(data.tasks.map((t) => [t.name, t.status, t.group === null ? null : data.groups[t.group]!.name])).toEqual([
        ["outer", "released", null],
        ["outer / child / inner", "released", "outer / child"],
        ["outer / child #2 / inner", "released", "outer / child #2"]
      ])
      expect(data.groups).toEqual([
        { name: "outer / child", graph: "child", task: 0, parent: null },
        { name: "outer / child #2", graph: "child #2", task: 0, parent: null }
      ])
      expect(data.tasks[0]!.attempts).toBe(2)
      expect(html).toMatch(/<g class="group" data-group="1"[^>]*>.*?<text class="glabel"[^>]*>child #2<\/text>/)
      expect(data.tasks[2]!.lines.map((l) => l[2])).toEqual(["inner ran"])
    }))

  it.live("a tag from the caller's context is an input node with an edge to the task needing it, in the run and the plan", () =>
    Effect.gen(function*() {
      const file = path.join(tmp(), "report.html")
      yield* runNested(file)
      const plan = yield* TaskGraph.toHtml(Graphs.nested())
      for (const html of [read(file), plan]) {
        const data = dataOf(html)
        const pkg = data.tasks.findIndex((t) => t.name === "package")
        expect(data.context).toEqual([{ tag: "Registry", requiredBy: [pkg] }])
        expect(data.tasks[pkg]!.fromContext).toEqual(["Registry"])
        expect(html).toMatch(/<g class="ctx" data-context="0"[^>]*><title>Registry: from the caller&#39;s context[^<]*<\/title>.*?<text class="cname"[^>]*>Registry<\/text><text class="csub"[^>]*>from context<\/text>/)
        expect(html).toContain(`<path class="edge ctx" data-context="0" data-to="${pkg}"`)
        expect(html).toContain(`<span class="ln-ctx"></span>from context</span>`)
      }
    }))

  it.live("condensed, the nested tasks are in the layers after their task and the context's tags are named", () =>
    Effect.gen(function*() {
      const file = path.join(tmp(), "report.html")
      yield* runNested(file, { maxDrawn: 4 })
      const html = read(file)
      expect(dataOf(html).condensed).toBe(true)
      // checkout, tests | unit/e2e build | run (e2e run: its own graph's drive one layer further) — package is layer 3 of the plan
      expect(html).toContain("8 tasks in 5 layers (5 in 3 graphs run inside tasks, in the layers after their task)")
      const data = dataOf(html) as unknown as { tasks: ReadonlyArray<{ name: string; layer: number }> }
      expect(data.tasks.map((t) => [t.name, t.layer])).toEqual([
        ["checkout", 0],
        ["tests", 1],
        ["tests / unit / build", 2],
        ["tests / unit / run", 3],
        ["tests / e2e / build", 2],
        ["tests / e2e / run", 3],
        ["tests / e2e / run / chromium / drive", 4],
        ["package", 2]
      ])
      expect(html).toContain(`<text class="axis-title ctx-line" x="0" y="`)
      expect(html).toContain(">from context: Registry</text>")
    }))
})

describe("Reporter.html on a forced exit", () => {
  it.scoped("the second Ctrl+C writes the page at once, from the events seen so far", () =>
    Effect.gen(function*() {
      const file = path.join(tmp(), "report.html")
      const graph = Graphs.success(false)
      const plan = yield* TaskGraph.validate(graph)
      const session = yield* Reporter.html(file).open(plan)
      yield* session.onEvents([
        new TaskEvent.TaskStarted({ task: "checkout", timestamp: 1000, attempt: 1 }),
        new TaskEvent.TaskOutput({ task: "checkout", timestamp: 1001, stream: "stdout", line: "cloning" }),
        new TaskEvent.TaskReady({ task: "checkout", timestamp: 1010, durationMs: 10 }),
        new TaskEvent.TaskStarted({ task: "compile", timestamp: 1011, attempt: 1 })
      ])
      session.onForce({ reason: "SIGINT", killed: 1 })
      const data = dataOf(read(file))
      expect(data).toMatchObject({ outcome: "interrupted", exitCode: 130 })
      expect(data.tasks.map((t) => t.status)).toEqual(["ready", "running", "pending", "pending", "pending"])
      expect(data.tasks[0]!.lines.map((l) => l[2])).toEqual(["cloning"])
    }))

  it.scoped("from the events alone, a nested task's group is read from its name", () =>
    Effect.gen(function*() {
      const file = path.join(tmp(), "report.html")
      const plan = yield* TaskGraph.validate(Graphs.nested())
      const session = yield* Reporter.html(file).open(plan)
      yield* session.onEvents([
        new TaskEvent.TaskStarted({ task: "checkout", timestamp: 1000, attempt: 1 }),
        new TaskEvent.TaskReady({ task: "checkout", timestamp: 1010, durationMs: 10 }),
        new TaskEvent.TaskStarted({ task: "tests", timestamp: 1011, attempt: 1 }),
        new TaskEvent.TaskStarted({ task: "tests / unit / build", timestamp: 1012, attempt: 1 }),
        new TaskEvent.TaskOutput({ task: "tests / unit / build", timestamp: 1013, stream: "log", line: "building unit" })
      ])
      session.onForce({ reason: "SIGINT", killed: 0 })
      const data = dataOf(read(file))
      expect(data.tasks.map((t) => [t.name, t.status, t.group])).toEqual([
        ["checkout", "ready", null],
        ["tests", "running", null],
        ["package", "pending", null],
        ["tests / unit / build", "running", 0]
      ])
      expect(data.groups).toEqual([{ name: "tests / unit", graph: "unit", task: 1, parent: null }])
      expect(data.tasks[3]!.lines.map((l) => l[2])).toEqual(["building unit"])
    }))
})

describe("TaskGraph.toHtml", () => {
  it.effect("the planned graph: the same drawing, every task planned, no timeline", () =>
    Effect.gen(function*() {
      const html = yield* TaskGraph.toHtml(Graphs.success(false))
      const data = dataOf(html)
      expect(data).toMatchObject({ kind: "plan", outcome: "planned", exitCode: null })
      expect(html.match(/<g class="node st-planned" data-i="\d+"/g)).toHaveLength(5)
      expect(html).toMatch(/<g class="elabel"[^>]*><title>Binary<\/title>/)
      expect(html).not.toContain(`class="timeline"`)
    }))

  it.effect("an invalid graph is its GraphError", () =>
    Effect.gen(function*() {
      const a = Task.make("a", { run: Effect.void })
      const error = yield* Effect.flip(TaskGraph.toHtml(TaskGraph.make("dup", [a, a])))
      expect(error._tag).toBe("DuplicateTaskError")
    }))
})
