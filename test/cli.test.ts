/**
 * The command line, run as a user runs it, on the sources: `node --import tsx
 * src/bin.ts run FILE …` (`npx effect-taskgraph` starts its compiled
 * `dist/bin.js`, checked from an installed tarball in test/package.test.ts), on fixture modules that
 * export a graph. Checks `--dry-run`, exit code 2 for bad usage, 1 for an
 * invalid graph or a failed run, and real runs with every output option.
 */
import * as fs from "node:fs"
import * as os from "node:os"
import * as path from "node:path"
import { describe, expect, it } from "vitest"
import * as TaskEvent from "../src/TaskEvent.js"
import { cli as runCli } from "./helpers/cli.js"

const fixture = (name: string) => path.join("test/fixtures/main", name)

const cli = (args: ReadonlyArray<string>, env: Record<string, string> = {}) => runCli(args, env, 60_000)

describe("effect-taskgraph run", () => {
  it("--dry-run validates, prints the plan and the Mermaid graph, runs nothing", async () => {
    const { code, stdout, stderr } = await cli(["run", fixture("cli-graph.ts"), "--dry-run"])
    expect({ code, stderr }).toEqual({ code: 0, stderr: "" })
    expect(stdout).toBe([
      `graph "cli demo": 3 tasks, valid`,
      ``,
      `plan (a step only waits for earlier steps):`,
      `   1. fetch`,
      `   2. build`,
      `   3. test`,
      ``,
      `data:`,
      `  fetch -> build (Sources)`,
      ``,
      `order:`,
      `  build before test`,
      ``,
      `flowchart TD`,
      `  t0["fetch"]`,
      `  t1["build"]`,
      `  t2["test"]`,
      `  t0 -- "Sources" --> t1`,
      `  t1 -.-> t2`,
      ``
    ].join("\n"))
    // nothing ran: no task output, no summary
    expect(stdout).not.toContain("compiling")
  })

  it("--dry-run of an invalid graph: the error, exit 1", async () => {
    const { code, stdout, stderr } = await cli(["run", fixture("cycle-graph.ts"), "--dry-run"])
    expect(code).toBe(1)
    expect(stdout).toBe("")
    expect(stderr).toContain("cycle in the task graph: a -> b -> a")
  })

  const usage: ReadonlyArray<readonly [string, ReadonlyArray<string>, string]> = [
    ["an unknown flag", ["run", fixture("cli-graph.ts"), "--bogus"], "Received unknown argument: '--bogus'"],
    ["a concurrency that is not a number", ["run", fixture("cli-graph.ts"), "--concurrency", "many"], "'many' is not a integer"],
    ["a concurrency of 0", ["run", fixture("cli-graph.ts"), "--concurrency", "0"], "--concurrency must be a positive integer"],
    ["an unknown reporter", ["run", fixture("cli-graph.ts"), "--reporter", "fancy"], "Expected one of the following cases: pretty, plain, json"],
    ["no file", ["run"], "Missing argument <FILE>"],
    ["a file that does not exist", ["run", "no/such/file.ts"], "error: no/such/file.ts: no such file"],
    ["a module without a graph", ["run", fixture("no-graph.ts")], "does not export a graph: make it `export default TaskGraph.make(\"name\", [...tasks])` (it exports: answer)"]
  ]
  it("a file that calls Main.runMain unguarded is refused (its graph would run twice), nothing runs", async () => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), "cli-unguarded-"))
    const ranFile = path.join(dir, "ran")
    try {
      const { code, stdout, stderr } = await cli(["run", fixture("unguarded-main.ts")], { RAN_FILE: ranFile })
      expect(code, stdout + stderr).toBe(2)
      expect(stderr).toContain("unguarded-main.ts calls Main.runMain when it is imported, so its graph would run twice")
      expect(stderr).toContain("if (Main.isMain(import.meta.url)) Main.runMain(graph)")
      expect(fs.existsSync(ranFile)).toBe(false)
    } finally {
      fs.rmSync(dir, { recursive: true, force: true })
    }
  })

  for (const [what, args, message] of usage) {
    it(`bad usage, ${what}: a clear message, exit 2`, async () => {
      const { code, stdout, stderr } = await cli(args)
      expect(code, stdout + stderr).toBe(2)
      expect(stderr).toContain(message)
      expect(stdout).not.toContain("[fetch]")
    })
  }

  it("--help lists the options, exit 0", async () => {
    const { code, stdout } = await cli(["run", "--help"])
    expect(code).toBe(0)
    for (const option of ["--concurrency", "--reporter", "--log-dir", "--junit", "--html", "--mermaid", "--dry-run", "--mode"]) {
      expect(stdout).toContain(option)
    }
  })

  it("a real run, plain (not a terminal), with log files, JUnit and the Mermaid graph: exit 0", async () => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), "cli-test-"))
    const { code, stdout, stderr } = await cli([
      "run", fixture("cli-graph.ts"), "-j", "2", "--log-dir", path.join(dir, "logs"), "--junit", path.join(dir, "junit.xml"), "--mermaid"
    ])
    expect({ code, stderr }).toEqual({ code: 0, stderr: "" })
    const lines = stdout.split("\n")
    expect(lines[0]).toBe("== cli demo: 3 tasks")
    for (const line of ["[fetch] fetched 3 files", "[build] compiling 3 files", "[build] warning: unused x", "[test] running 2 tests", "[test] 2 passed"]) {
      expect(lines).toContain(line)
    }
    expect(stdout).toMatch(/^== cli demo: succeeded in \d+/m)
    expect(lines).toContain("== critical path: fetch -> build -> test")
    expect(lines).toContain(`== logs: ${path.join(dir, "logs")}`)
    expect(lines).toContain(`== junit: ${path.join(dir, "junit.xml")}`)
    // the executed graph, after the summary
    expect(stdout.indexOf("flowchart TD")).toBeGreaterThan(stdout.indexOf("== junit:"))
    expect(stdout).toMatch(/t0\["fetch<br\/>released · \d+ms"\]:::ok/)
    expect(fs.readFileSync(path.join(dir, "logs/tasks/build.log"), "utf8")).toContain("compiling 3 files\n")
    expect(fs.readFileSync(path.join(dir, "junit.xml"), "utf8")).toContain(`<testsuites name="cli demo" tests="3" failures="0" errors="0" skipped="0"`)
    fs.rmSync(dir, { recursive: true })
  })

  it("--reporter json: only events on stdout, each decodable", async () => {
    const { code, stdout, stderr } = await cli(["run", fixture("cli-graph.ts"), "--reporter", "json"])
    expect(code).toBe(0)
    const events = stdout.trimEnd().split("\n").map(TaskEvent.fromJsonLine)
    expect(events[0]).toMatchObject({ _tag: "TaskStarted", task: "fetch" })
    expect(events[events.length - 1]).toMatchObject({ _tag: "RunFinished", task: "cli demo", status: "succeeded" })
    // the summary is on stderr, as text
    expect(stderr).toMatch(/^== cli demo: succeeded in/m)
  })

  it("a failing run: the failure and its error, the summary, exit 1", async () => {
    const { code, stdout } = await cli(["run", fixture("cli-graph.ts")], { FAIL_TEST: "1" })
    expect(code).toBe(1)
    expect(stdout).toMatch(/^\[test\] -- FAILED after \d+/m)
    expect(stdout).toContain("[test] test 2 failed: expected 1, got 2")
    expect(stdout).toMatch(/^== cli demo: failed in/m)
  })

  it("--html FILE: the run's HTML report, named in the summary; with --dry-run, the planned graph", async () => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), "cli-html-"))
    const report = path.join(dir, "out", "report.html")
    const run = await cli(["run", fixture("cli-graph.ts"), "--html", report])
    expect({ code: run.code, stderr: run.stderr }).toEqual({ code: 0, stderr: "" })
    expect(run.stdout).toContain(`== report: ${report}`)
    const html = fs.readFileSync(report, "utf8")
    expect(html).toContain(`"kind":"run"`)
    expect(html.match(/<g class="node st-released/g)).toHaveLength(3)

    const planned = path.join(dir, "graph.html")
    const dry = await cli(["run", fixture("cli-graph.ts"), "--dry-run", "--html", planned])
    expect({ code: dry.code, stderr: dry.stderr }).toEqual({ code: 0, stderr: "" })
    expect(dry.stdout).toContain(`planned graph: ${planned}`)
    expect(dry.stdout).not.toContain("compiling")
    const plan = fs.readFileSync(planned, "utf8")
    expect(plan).toContain(`"kind":"plan"`)
    expect(plan.match(/<g class="node st-planned/g)).toHaveLength(3)
    fs.rmSync(dir, { recursive: true, force: true })
  }, 90_000) // two runs of the command line, ~15 s each on a busy 2-core machine

  it("--html to a path that cannot be written: a clear error before anything runs, exit 1", async () => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), "cli-html-"))
    fs.writeFileSync(path.join(dir, "file"), "")
    const { code, stdout, stderr } = await cli(["run", fixture("cli-graph.ts"), "--html", path.join(dir, "file", "report.html")])
    expect(code).toBe(1)
    expect(stderr).toContain("the html reporter cannot write")
    expect(stderr).toContain("a file is in the way of its directory")
    expect(stdout).not.toContain("compiling")
    fs.rmSync(dir, { recursive: true, force: true })
  })
})
