/**
 * The reporters on a real small graph of real programs (`sh`), run by
 * `Main.run` with their output captured: what plain, json, files, junit and
 * pretty write, that json decodes back with the `TaskEvent` Schema, that task
 * logs are shown once (never through the console loggers), that an
 * interrupted run says what is stopping, and that a log directory that
 * cannot be written stops the run before anything starts.
 */
import { spawnSync } from "node:child_process"
import * as fs from "node:fs"
import * as os from "node:os"
import * as path from "node:path"
import { describe, expect, it } from "@effect/vitest"
import { Context, Deferred, Effect, Exit, Fiber, Ref } from "effect"
import * as PrettyView from "../src/internal/reporter/pretty.js"
import * as Text from "../src/internal/reporter/text.js"
import * as Main from "../src/Main.js"
import * as Process from "../src/Process.js"
import * as Reporter from "../src/Reporter.js"
import { Task, TaskEvent, TaskGraph } from "../src/index.js"

class Sources extends Context.Tag("Sources")<Sources, { readonly files: number }>() {}

/** fetch -> build -> unit -> package; with `fail`, unit exits 1 (so package is skipped). */
const demo = (fail: boolean) => {
  const fetch = Task.make("fetch", {
    provides: Sources,
    run: Effect.as(Effect.log("fetched 3 files"), { files: 3 })
  })
  const build = Task.make("build", {
    requires: [Sources],
    run: Effect.flatMap(Sources, ({ files }) =>
      Process.run("sh", ["-c", `echo "compiling ${files} files"; echo "warning: unused x" >&2; echo linked`]))
  })
  const unit = Task.make("unit", {
    after: [build],
    run: Process.run("sh", [
      "-c",
      fail
        ? "echo 'test_add ok'; echo 'test_mul FAILED'; echo 'expected 6, got 7' >&2; exit 1"
        : "echo 'test_add ok'; echo 'test_mul ok'"
    ])
  })
  const pack = Task.make("package", { after: [unit], run: Process.run("sh", ["-c", "echo packed"]) })
  return TaskGraph.make("demo", [fetch, build, unit, pack])
}

/** An output that records what is written; `until(text)` waits for it to appear. */
const capture = (size: { columns?: number; rows?: number; isTTY?: boolean } = {}) => {
  let text = ""
  const waiters: Array<{ needle: string; resolve: () => void }> = []
  const output: Reporter.Output = {
    ...size,
    write: (chunk: string) => {
      text += chunk
      for (const w of waiters.filter((w) => text.includes(w.needle))) {
        waiters.splice(waiters.indexOf(w), 1)
        w.resolve()
      }
      return true
    }
  }
  const until = (needle: string) =>
    Effect.async<void>((resume) => {
      if (text.includes(needle)) return resume(Effect.void)
      waiters.push({ needle, resolve: () => resume(Effect.void) })
    })
  return { output, text: () => text, until }
}

const tempDir = () => fs.mkdtempSync(path.join(os.tmpdir(), "reporter-test-"))

describe("plain", () => {
  it.live("prefixed output lines, state changes, the error, the summary", () =>
    Effect.gen(function*() {
      const out = capture()
      const exit = yield* Effect.exit(Main.run(demo(true), { reporter: Reporter.plain({ output: out.output }) }))
      expect(Exit.isFailure(exit)).toBe(true)
      const lines = out.text().split("\n")
      expect(lines[0]).toBe("== demo: 4 tasks")
      // every line of every program, prefixed with its task
      for (const line of ["[fetch] fetched 3 files", "[build] compiling 3 files", "[build] warning: unused x", "[build] linked", "[unit] test_add ok", "[unit] expected 6, got 7"]) {
        expect(lines).toContain(line)
      }
      // state changes, in order for one task
      const at = (line: string) => lines.findIndex((l) => l.startsWith(line))
      expect(at("[build] -- started")).toBeGreaterThan(at("[fetch] -- ready in"))
      expect(at("[build] compiling 3 files")).toBeGreaterThan(at("[build] -- started"))
      expect(at("[build] -- done in")).toBeGreaterThan(at("[build] linked"))
      expect(lines).toContain("[package] -- skipped (blocked by unit)")
      // the failure, then its error (stack frames left out)
      const failed = at("[unit] -- FAILED after")
      expect(failed).toBeGreaterThan(0)
      expect(lines[failed + 1]).toMatch(/^\[unit\] {4}ProcessExitError: `sh -c .*` exited with code 1\.$/)
      expect(lines.filter((l) => /^\[unit\]\s+at /.test(l))).toEqual([])
      // nothing redrawn: no escape sequence at all
      expect(out.text()).not.toContain("\x1b")
      // the summary
      const summary = lines.slice(lines.indexOf("") + 1)
      expect(summary[0]).toMatch(/^== demo: failed in \d+(ms|\.\ds)$/)
      expect(summary[1]).toMatch(/^ {2}fetch {4,}released +\d+ms$/)
      expect(summary.find((l) => l.includes("package"))).toMatch(/package +skipped +blocked by unit$/)
      expect(summary).toContain("== critical path: fetch -> build -> unit")
    }))
})

describe("json", () => {
  it.live("one Schema-encoded event per line, decodable back; text to the other output", () =>
    Effect.gen(function*() {
      const out = capture()
      const messages = capture()
      yield* Effect.exit(Main.run(demo(true), { reporter: Reporter.json({ output: out.output, messages: messages.output }) }))
      const lines = out.text().split("\n").filter((l) => l !== "")
      const events = lines.map(TaskEvent.fromJsonLine)
      // lossless: decoding then encoding gives the line back
      expect(events.map(TaskEvent.toJsonLine)).toEqual(lines)
      expect(events[events.length - 1]).toMatchObject({ _tag: "RunFinished", task: "demo", status: "failed" })
      const of = (task: string) => events.filter((e) => e.task === task).map((e) => e._tag)
      expect(of("build")).toEqual(["TaskStarted", "TaskOutput", "TaskOutput", "TaskOutput", "TaskReady", "TaskReleased"])
      expect(of("unit")[0]).toBe("TaskStarted")
      expect(of("unit")[of("unit").length - 1]).toBe("TaskFailed")
      expect(of("package")).toEqual(["TaskSkipped"])
      expect(events.find((e) => e._tag === "TaskOutput" && e.stream === "stderr")).toMatchObject({ task: "build", line: "warning: unused x" })
      expect(events.find((e) => e._tag === "TaskOutput" && e.stream === "log")).toMatchObject({ task: "fetch", line: "fetched 3 files" })
      // the summary went to the messages output, not between the events
      expect(messages.text()).toContain("== demo: failed in")
      expect(messages.text()).not.toContain("[build] compiling")
    }))
})

describe("fail-fast", () => {
  it.live("a task that did not need the failed one is 'stopped when … failed', not 'blocked by' it: plain, summary, junit, report.json", () =>
    Effect.gen(function*() {
      const dir = tempDir()
      const out = capture()
      // fails after a yield: docs has started by then, and is interrupted
      const unit = Task.make("unit", { run: Effect.zipRight(Effect.yieldNow(), Effect.fail(new Error("2 tests failed"))) })
      const deploy = Task.make("deploy", { after: [unit], run: Effect.void })
      const docs = Task.make("docs", { run: Effect.never })
      const publish = Task.make("publish docs", { after: [docs], run: Effect.void })
      const graph = TaskGraph.make("ff", [unit, deploy, docs, publish])
      yield* Effect.exit(Main.run(graph, { reporter: [Reporter.plain({ output: out.output }), Reporter.junit(path.join(dir, "junit.xml"))], logDir: dir }))
      const lines = out.text().split("\n")
      expect(lines).toContain("[deploy] -- skipped (blocked by unit)")
      expect(lines).toContain("[publish docs] -- skipped (stopped when unit failed)")
      expect(lines).toContain("[docs] -- interrupted (stopped when unit failed)")
      expect(lines.find((l) => /^ {2}docs /.test(l))).toMatch(/docs +interrupted +\S+ +stopped when unit failed$/)
      expect(lines.find((l) => /^ {2}publish docs /.test(l))).toMatch(/publish docs +skipped +stopped when unit failed$/)
      const xml = fs.readFileSync(path.join(dir, "junit.xml"), "utf8")
      expect(xml).toContain(`<skipped message="skipped: blocked by unit"/>`)
      expect(xml).toContain(`<skipped message="skipped: stopped when unit failed"/>`)
      expect(fs.readFileSync(path.join(dir, "run.log"), "utf8")).toMatch(/ \[docs\] --- interrupted \(stopped when unit failed\)\n/)
      const report = JSON.parse(fs.readFileSync(path.join(dir, "report.json"), "utf8"))
      expect(report.tasks.map((t: { name: string; blockedBy: string | null; stoppedBy: string | null }) => [t.name, t.blockedBy, t.stoppedBy])).toEqual([
        ["unit", null, null],
        ["deploy", "unit", null],
        ["docs", null, "unit"],
        ["publish docs", null, "unit"]
      ])
      fs.rmSync(dir, { recursive: true })
    }))
})

describe("log levels", () => {
  it.live("a line logged at a level other than INFO shows it in front: plain lines, task logs, the combined log", () =>
    Effect.gen(function*() {
      const dir = tempDir()
      const out = capture()
      const check = Task.make("check", {
        run: Effect.gen(function*() {
          yield* Effect.log("3 files")
          yield* Effect.logWarning("cache miss")
          yield* Effect.logError("disk full")
          yield* Task.output("plain stdout")
        })
      })
      yield* Main.run(TaskGraph.make("levels", [check]), { reporter: Reporter.plain({ output: out.output }), logDir: dir })
      const lines = out.text().split("\n")
      expect(lines.filter((l) => l.startsWith("[check] ") && !l.startsWith("[check] --"))).toEqual([
        "[check] 3 files",
        "[check] WARN cache miss",
        "[check] ERROR disk full",
        "[check] plain stdout"
      ])
      expect(fs.readFileSync(path.join(dir, "tasks/check.log"), "utf8")).toBe("3 files\nWARN cache miss\nERROR disk full\nplain stdout\n")
      const combined = fs.readFileSync(path.join(dir, "run.log"), "utf8")
      expect(combined).toMatch(/ \[check\] log WARN cache miss\n/)
      expect(combined).toMatch(/ \[check\] log ERROR disk full\n/)
      expect(combined).toMatch(/ \[check\] log 3 files\n/)
      fs.rmSync(dir, { recursive: true })
    }))
})

describe("files", () => {
  it.live("one log per task, a combined log with timestamps and prefixes, the report, the graph", () =>
    Effect.gen(function*() {
      const dir = tempDir()
      const out = capture()
      yield* Effect.exit(Main.run(demo(true), { reporter: Reporter.plain({ output: out.output }), logDir: dir }))
      expect(fs.readdirSync(dir).sort()).toEqual(["events.jsonl", "gantt.mmd", "graph.mmd", "report.json", "run.log", "summary.txt", "tasks"])
      // each task's own lines, as printed (stderr lines too), nothing else
      const build = fs.readFileSync(path.join(dir, "tasks/build.log"), "utf8").split("\n")
      expect(build.filter((l) => l !== "" && l !== "warning: unused x")).toEqual(["compiling 3 files", "linked"])
      expect(build).toContain("warning: unused x")
      expect(fs.readFileSync(path.join(dir, "tasks/fetch.log"), "utf8")).toBe("fetched 3 files\n")
      // a skipped task never started: no log
      expect(fs.readdirSync(path.join(dir, "tasks")).sort()).toEqual(["build.log", "fetch.log", "unit.log"])
      // the combined log: every line timestamped and prefixed, stream marked
      const combined = fs.readFileSync(path.join(dir, "run.log"), "utf8").trimEnd().split("\n")
      for (const line of combined) {
        expect(line).toMatch(/^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z \[[a-z ]+\] (out|err|log|---|===| {3}) /)
      }
      expect(combined.some((l) => / \[build\] err warning: unused x$/.test(l))).toBe(true)
      expect(combined.some((l) => / \[build\] out compiling 3 files$/.test(l))).toBe(true)
      expect(combined.some((l) => / \[fetch\] log fetched 3 files$/.test(l))).toBe(true)
      expect(combined.some((l) => / \[unit\] --- FAILED after \d+/.test(l))).toBe(true)
      expect(combined[combined.length - 1]).toMatch(/ \[demo\] === run failed in/)
      // the report
      const report = JSON.parse(fs.readFileSync(path.join(dir, "report.json"), "utf8"))
      expect(report.status).toBe("failed")
      expect(report.failed).toEqual(["unit"])
      expect(report.tasks.map((t: { status: string }) => t.status)).toEqual(["released", "released", "failed", "skipped"])
      expect(report.tasks[2].error).toContain("exited with code 1")
      expect(report.tasks[1].log).toBe("tasks/build.log")
      expect(report.tasks[3].log).toBe(null)
      // every event, decodable
      const events = fs.readFileSync(path.join(dir, "events.jsonl"), "utf8").trimEnd().split("\n").map(TaskEvent.fromJsonLine)
      expect(events[events.length - 1]!._tag).toBe("RunFinished")
      expect(fs.readFileSync(path.join(dir, "graph.mmd"), "utf8")).toContain(":::failed")
      expect(fs.readFileSync(path.join(dir, "gantt.mmd"), "utf8")).toMatch(/^gantt/)
      expect(fs.readFileSync(path.join(dir, "summary.txt"), "utf8")).toContain("critical path: fetch -> build -> unit")
      // and the summary on the terminal says where the logs are
      expect(out.text()).toContain(`== logs: ${dir}`)
      fs.rmSync(dir, { recursive: true })
    }))

  it.live("a directory that cannot be written: ReporterError, and nothing ran", () =>
    Effect.gen(function*() {
      const dir = tempDir()
      const file = path.join(dir, "not-a-dir")
      fs.writeFileSync(file, "")
      const ran = yield* Ref.make(false)
      const graph = TaskGraph.make("g", [Task.make("a", { run: Ref.set(ran, true) })])
      const error = yield* Effect.flip(Main.run(graph, { reporter: Reporter.plain({ output: capture().output }), logDir: file }))
      expect(error._tag).toBe("ReporterError")
      expect(error.message).toContain(file)
      expect(error.message).toContain("Choose a writable path")
      expect(yield* Ref.get(ran)).toBe(false)
      fs.rmSync(dir, { recursive: true })
    }))
})

describe("junit", () => {
  it.live("one testcase per task; the failure with its message and output tail; skipped with the reason", () =>
    Effect.gen(function*() {
      const dir = tempDir()
      const file = path.join(dir, "reports/junit.xml")
      yield* Effect.exit(Main.run(demo(true), { reporter: Reporter.plain({ output: capture().output }), junit: file }))
      const xml = fs.readFileSync(file, "utf8")
      expect(xml).toMatch(/^<\?xml version="1.0" encoding="UTF-8"\?>\n<testsuites name="demo" tests="4" failures="1" errors="0" skipped="1" time="[\d.]+">/)
      // parsed by a real XML parser, when python3 is there: well-formed, and the structure CI reads
      const python = spawnSync("python3", ["-c", `
import json, sys, xml.etree.ElementTree as ET
suite = ET.parse(sys.argv[1]).getroot().find("testsuite")
print(json.dumps([{"name": c.get("name"), "classname": c.get("classname"),
  "failure": None if c.find("failure") is None else {"message": c.find("failure").get("message"), "text": c.find("failure").text},
  "skipped": None if c.find("skipped") is None else c.find("skipped").get("message"),
  "out": None if c.find("system-out") is None else c.find("system-out").text} for c in suite.findall("testcase")]))
`, file], { encoding: "utf8" })
      if (python.status === 0) {
        const cases = JSON.parse(python.stdout)
        expect(cases.map((c: { name: string }) => c.name)).toEqual(["fetch", "build", "unit", "package"])
        expect(cases[0]).toMatchObject({ classname: "demo", failure: null, skipped: null, out: "fetched 3 files" })
        expect(cases[2].failure.message).toMatch(/^ProcessExitError: `sh -c .*` exited with code 1\.$/)
        expect(cases[2].failure.text).toContain("expected 6, got 7")
        expect(cases[2].failure.text).toContain("test_mul FAILED")
        expect(cases[3]).toMatchObject({ failure: null, skipped: "skipped: blocked by unit" })
      } else {
        expect(xml).toContain(`<skipped message="skipped: blocked by unit"/>`)
      }
      fs.rmSync(dir, { recursive: true })
    }))

  it("escapes what XML cannot hold", async () => {
    const { escape } = await import("../src/internal/reporter/junit.js")
    expect(escape(`a<b>&"c"\x1b[31mred\x1b[0m\x07`)).toBe("a&lt;b&gt;&amp;&quot;c&quot;red")
  })
})

describe("pretty", () => {
  it.live("redraws in place within 80 columns, shows the failure and the summary, restores the cursor", () =>
    Effect.gen(function*() {
      const out = capture({ columns: 80, rows: 24, isTTY: true })
      yield* Effect.exit(Main.run(demo(true), {
        reporter: Reporter.pretty({ output: out.output, color: false, unicode: true, refresh: "5 millis" })
      }))
      const raw = out.text()
      expect(raw.startsWith(PrettyView.HIDE_CURSOR)).toBe(true)
      expect(raw.endsWith(PrettyView.SHOW_CURSOR)).toBe(true)
      // NO colour asked: no SGR sequence at all (only cursor movement and erasing)
      expect(raw).not.toMatch(/\x1b\[[\d;]*m/)
      // every drawn line fits in 79 columns (never the last one: no auto-wrap)
      const drawn = raw.split("\n").map((l) => Text.stripAnsi(l))
      for (const line of drawn) expect(Text.width(line)).toBeLessThan(80)
      // the failure block, printed once above the view
      const text = Text.stripAnsi(raw)
      expect(text.split("✗ unit failed after").length).toBe(2)
      expect(text).toContain("│ test_mul FAILED")
      expect(text).toContain("expected 6, got 7")
      // the final frame, then the summary
      expect(text).toMatch(/ demo {2}4\/4 done · 1 failed/)
      expect(text).toMatch(/ - package +skipped: blocked by unit/)
      expect(text).toMatch(/demo: failed in \d+/)
      expect(text).toMatch(/ {2}✗ unit +failed +\d+/)
    }))

  it.live("a terminal that reports 0 columns and rows (a pty without a size) is drawn 80 wide, not 20", () =>
    Effect.gen(function*() {
      const out = capture({ columns: 0, rows: 0, isTTY: true })
      yield* Effect.exit(Main.run(demo(true), {
        reporter: Reporter.pretty({ output: out.output, color: false, unicode: true, refresh: "5 millis" })
      }))
      const text = Text.stripAnsi(out.text())
      expect(text).toMatch(/ - package +skipped: blocked by unit/)
      const widest = Math.max(...text.split("\n").map((l) => Text.width(l)))
      expect(widest).toBeGreaterThan(20)
      expect(widest).toBeLessThan(80)
    }))

  it("the frame of a big graph fits the screen: busy and failed tasks first", () => {
    const names = Array.from({ length: 40 }, (_, i) => `task number ${i} with a rather long name that goes on`)
    const out = capture()
    const view = PrettyView.make({ graph: "big", tasks: names, dependencies: [], precedences: [] }, {
      output: out.output,
      color: true,
      unicode: true,
      tailLines: 5,
      columns: 80,
      rows: 24
    })
    view.begin(0)
    const events: Array<TaskEvent.TaskEvent> = []
    names.forEach((task, i) => {
      if (i < 30) events.push(new TaskEvent.TaskStarted({ task, timestamp: 0 }))
      if (i < 25) events.push(new TaskEvent.TaskReady({ task, timestamp: 10, durationMs: 10 }), new TaskEvent.TaskReleased({ task, timestamp: 10 }))
    })
    events.push(new TaskEvent.TaskOutput({ task: names[27]!, timestamp: 11, stream: "stdout", line: "x".repeat(300) }))
    events.push(new TaskEvent.TaskFailed({ task: names[29]!, timestamp: 12, error: "Error: disk full\n    at somewhere (file.ts:1:1)" }))
    view.events(events)
    const frame = view.frame(1500)
    expect(frame.length).toBeLessThanOrEqual(23)
    for (const line of frame) expect(Text.width(line)).toBeLessThan(80)
    // running tasks, the failed one and those still to come are shown; the finished ones are counted
    for (const i of [25, 26, 27, 28, 30, 39]) expect(frame.some((l) => l.includes(`task number ${i} `))).toBe(true)
    expect(frame.find((l) => l.includes("task number 29 "))).toMatch(/failed: disk full$/)
    expect(frame.find((l) => l.includes("task number 27 "))).toMatch(/ 1\.5s {2}x+…$/)
    expect(frame[frame.length - 1]).toBe(" … 19 more (19 done)")
    expect(frame[0]).toMatch(/^ big {2}26\/40 done · 4 running · 1 failed {2}1\.5s$/)
  })

  it("a running task's last line, when it is a logged warning or error, is drawn in yellow or red", () => {
    const out = capture()
    const view = PrettyView.make({ graph: "g", tasks: ["a", "b", "c"], dependencies: [], precedences: [] }, {
      output: out.output,
      color: true,
      unicode: false,
      tailLines: 5,
      columns: 80,
      rows: 24
    })
    view.begin(0)
    view.events([
      new TaskEvent.TaskStarted({ task: "a", timestamp: 0 }),
      new TaskEvent.TaskStarted({ task: "b", timestamp: 0 }),
      new TaskEvent.TaskStarted({ task: "c", timestamp: 0 }),
      new TaskEvent.TaskOutput({ task: "a", timestamp: 5, stream: "log", line: "cache miss", level: "Warning" }),
      new TaskEvent.TaskOutput({ task: "b", timestamp: 5, stream: "log", line: "disk full", level: "Error" }),
      new TaskEvent.TaskOutput({ task: "c", timestamp: 5, stream: "log", line: "3 files", level: "Info" })
    ])
    view.tick(100)
    const frame = view.frame(100)
    expect(frame.find((l) => l.includes(" a "))).toMatch(/WARN cache miss$/)
    expect(frame.find((l) => l.includes(" b "))).toMatch(/ERROR disk full$/)
    expect(frame.find((l) => l.includes(" c "))).toMatch(/ 3 files$/)
    const raw = out.text()
    expect(raw).toContain("\x1b[33mWARN cache miss\x1b[39m")
    expect(raw).toContain("\x1b[31mERROR disk full\x1b[39m")
    expect(raw).toContain("\x1b[2m3 files\x1b[22m")
    view.close()
  })

  it("while stopping: what each finalizer prints, the reason, how to force, the programs left", () => {
    const view = PrettyView.make({ graph: "vms", tasks: ["vm", "tests"], dependencies: [{ from: "vm", to: "tests" }], precedences: [] }, {
      output: capture().output,
      color: false,
      unicode: false,
      tailLines: 5,
      columns: 80,
      rows: 24
    })
    view.begin(0)
    view.events([
      new TaskEvent.TaskStarted({ task: "vm", timestamp: 0 }),
      new TaskEvent.TaskOutput({ task: "vm", timestamp: 5, stream: "stdout", line: "booting" }),
      new TaskEvent.TaskReady({ task: "vm", timestamp: 10, durationMs: 10 }),
      new TaskEvent.TaskStarted({ task: "tests", timestamp: 10 }),
      new TaskEvent.TaskInterrupted({ task: "tests", timestamp: 300 }),
      new TaskEvent.TaskOutput({ task: "vm", timestamp: 310, stream: "log", line: "powering off (QMP quit)" })
    ])
    view.notice({
      _tag: "Stopping",
      reason: "SIGINT",
      first: true,
      since: 290,
      now: 290,
      tasks: [{ name: "vm", phase: "releasing" }, { name: "tests", phase: "interrupting" }],
      processes: [{ pid: 42, command: "qemu-system-x86_64", args: ["-m", "512"], state: "stopping" }],
      hint: "Press Ctrl+C again to force."
    })
    expect(view.frame(1500)).toEqual([
      " vms  2/2 done  1.5s",
      " | vm      10ms  releasing · powering off (QMP quit)",
      " ! tests  290ms  interrupted",
      " ! SIGINT: stopping 1 task and 1 process… 1.2s",
      "   Press Ctrl+C again to force.",
      "   stopping qemu-system-x86_64 -m 512 (pid 42)"
    ])
  })

  it("respects NO_COLOR by default", () => {
    expect(Text.colorFromEnv({ NO_COLOR: "1" })).toBe(false)
    expect(Text.colorFromEnv({ NO_COLOR: "" })).toBe(true)
    expect(Text.colorFromEnv({})).toBe(true)
    expect(Text.colorFromEnv({ TERM: "dumb" })).toBe(false)
  })
})

describe("choosing and combining", () => {
  it("auto: pretty on a terminal, plain in CI or a pipe, or what EFFECT_TASKGRAPH_REPORTER says", () => {
    const tty = { write: () => true, isTTY: true }
    const pipe = { write: () => true, isTTY: false }
    expect(Reporter.auto({ env: {}, output: tty }).name).toBe("pretty")
    expect(Reporter.auto({ env: { CI: "true" }, output: tty }).name).toBe("plain")
    expect(Reporter.auto({ env: { CI: "false" }, output: tty }).name).toBe("pretty")
    expect(Reporter.auto({ env: {}, output: pipe }).name).toBe("plain")
    expect(Reporter.auto({ env: { TERM: "dumb" }, output: tty }).name).toBe("plain")
    expect(Reporter.auto({ env: { EFFECT_TASKGRAPH_REPORTER: "json" }, output: tty }).name).toBe("json")
  })

  it.live("combined reporters all see the same events; task logs are shown once, never by the console loggers", () =>
    Effect.gen(function*() {
      const plainOut = capture()
      const jsonOut = capture()
      const consoleCalls: Array<unknown> = []
      const spy = { ...globalThis.console, log: (...args: Array<unknown>) => consoleCalls.push(args), info: (...args: Array<unknown>) => consoleCalls.push(args) }
      const worker = Task.make("worker", {
        run: Effect.gen(function*() {
          yield* Effect.addFinalizer(() => Effect.log("closing the connection"))
          yield* Effect.log("inside the task")
        })
      })
      yield* Main.run(TaskGraph.make("logs", [worker]), {
        reporter: [Reporter.plain({ output: plainOut.output }), Reporter.json({ output: jsonOut.output, messages: null })]
      }).pipe(Effect.withConsole(spy as never))
      const plain = plainOut.text()
      expect(plain.split("inside the task").length).toBe(2)
      expect(plain.split("closing the connection").length).toBe(2)
      expect(plain).toContain("[worker] inside the task")
      const events = jsonOut.text().trimEnd().split("\n").map(TaskEvent.fromJsonLine)
      expect(events.filter((e) => e._tag === "TaskOutput").map((e) => (e as TaskEvent.TaskOutput).line)).toContain("inside the task")
      // the default logger printed nothing through the console
      expect(consoleCalls).toEqual([])
    }))
})

describe("a reporter that throws", () => {
  it.live("is turned off and named; the other reporters get every event, the summary and their files", () =>
    Effect.gen(function*() {
      const plainOut = capture()
      const dir = tempDir()
      const html = path.join(dir, "report.html")
      let threw = false
      let callsAfter = 0
      const broken = Reporter.make("broken", () =>
        Effect.succeed({
          onEvents: (events) =>
            Effect.sync(() => {
              if (threw) callsAfter++
              if (events.some((e) => e._tag === "TaskOutput")) {
                threw = true
                throw new Error("reporter bug")
              }
            }),
          onEnd: () => Effect.sync(() => callsAfter++)
        }))
      // the broken one first: it must not stop those after it
      const exit = yield* Effect.exit(Main.run(demo(false), { reporter: [broken, Reporter.plain({ output: plainOut.output })], html }))
      expect(Exit.isSuccess(exit)).toBe(true)
      const plain = plainOut.text()
      expect(plain).toMatch(/the reporter "broken" failed in onEvents and is turned off for the rest of the run: Error: reporter bug/)
      expect(plain.split("reporter bug").length).toBe(2)
      for (const line of ["[fetch] fetched 3 files", "[build] linked", "[unit] test_mul ok", "[package] packed"]) expect(plain).toContain(line)
      expect(plain).toMatch(/== demo: succeeded in /)
      expect(fs.readFileSync(html, "utf8")).toContain("<!doctype html>")
      // once turned off, not called again in that run
      expect(threw).toBe(true)
      expect(callsAfter).toBe(0)
      fs.rmSync(dir, { recursive: true, force: true })
    }))
})

describe("stopping", () => {
  it.live("an interrupted run says what is still stopping, then shows the summary", () =>
    Effect.gen(function*() {
      const out = capture()
      const sleeper = Task.make("sleeper", {
        run: Process.run("sh", ["-c", "echo 'sleeping'; exec sleep 300"])
      })
      const fiber = yield* Effect.fork(Main.run(TaskGraph.make("nap", [sleeper]), { reporter: Reporter.plain({ output: out.output }) }))
      yield* out.until("[sleeper] sleeping")
      yield* Fiber.interrupt(fiber)
      const lines = out.text().split("\n")
      const notice = lines.find((l) => l.startsWith("== interrupted: stopping"))
      expect(notice).toMatch(/^== interrupted: stopping 1 task: sleeper \(interrupting\); 1 process: sh -c echo 'sleeping'; exec sleep 300 \(pid \d+\)$/)
      expect(lines).toContain("[sleeper] -- interrupted")
      expect(lines.some((l) => /^== nap: interrupted in \d+/.test(l))).toBe(true)
      expect(lines.indexOf("[sleeper] -- interrupted")).toBeGreaterThan(lines.indexOf(notice!))
    }))

  it.live("after a failure, a cleanup that takes a while is shown as stopping too", () =>
    Effect.gen(function*() {
      class Server extends Context.Tag("Server")<Server, number>() {}
      const out = capture()
      const server = Task.make("server", {
        provides: Server,
        run: Effect.gen(function*() {
          // ignores SIGTERM: its release waits the whole grace, then SIGKILLs it
          const proc = yield* Process.start("sh", ["-c", "trap '' TERM; echo up; while :; do sleep 0.1; done"], { grace: "1500 millis" })
          yield* Process.waitForLine(proc, "up")
          return proc.pid
        })
      })
      const user = Task.make("user", {
        requires: [Server],
        run: Effect.zipRight(Server, Process.run("sh", ["-c", "echo 'no route to host' >&2; exit 2"]))
      })
      yield* Effect.exit(Main.run(TaskGraph.make("flaky", [server, user]), { reporter: Reporter.plain({ output: out.output }) }))
      const lines = out.text().split("\n")
      const notice = lines.findIndex((l) => l.startsWith("== user failed: stopping"))
      expect(lines[notice]).toMatch(/^== user failed: stopping 1 task: server \(releasing\); 1 process: sh -c trap '' TERM; .* \(pid \d+\)$/)
      expect(notice).toBeGreaterThan(lines.findIndex((l) => l.startsWith("[user] -- FAILED")))
      // the cleanup happened (after the notice), then the summary: its shape, not how long a loaded machine took
      const released = lines.indexOf("[server] -- released")
      expect(released).toBeGreaterThan(notice)
      const summary = lines.findIndex((l) => /^== flaky: failed in [\d.]+m?s$/.test(l))
      expect(summary).toBeGreaterThan(released)
    }))

  it.live("a stop request reaches every reporter as a Stopping notice with tasks and processes", () =>
    Effect.gen(function*() {
      const notices = yield* Ref.make<ReadonlyArray<Reporter.Notice>>([])
      const started = yield* Deferred.make<void>()
      const recorder = Reporter.make("recorder", () =>
        Effect.succeed({
          onEvents: (events) => events.some((e) => e._tag === "TaskOutput") ? Deferred.succeed(started, undefined) : Effect.void,
          onNotice: (notice) => Ref.update(notices, (all) => [...all, notice])
        }))
      const sleeper = Task.make("sleeper", { run: Process.run("sh", ["-c", "echo go; exec sleep 300"]) })
      const fiber = yield* Effect.fork(Main.run(TaskGraph.make("nap", [sleeper]), { reporter: recorder }))
      yield* Deferred.await(started)
      yield* Fiber.interrupt(fiber)
      const first = (yield* Ref.get(notices))[0]
      expect(first).toMatchObject({ _tag: "Stopping", reason: "interrupted", first: true, tasks: [{ name: "sleeper", phase: "interrupting" }] })
      expect((first as Reporter.Stopping).processes.map((p) => p.command)).toEqual(["sh"])
    }))
})
