/**
 * Every example is type-checked (tsconfig includes examples/) and smoke-run
 * here as a real process, as a user would run it: `npx tsx examples/NAME.ts`.
 *
 * The list comes from `examples/*.ts` itself: each file must have an entry
 * below (its exit code and lines it prints), or a reason it is run elsewhere.
 * A new or renamed example without an entry fails the suite.
 */
import { execFile, spawn } from "node:child_process"
import { existsSync, readdirSync, readFileSync } from "node:fs"
import { describe, expect, it } from "vitest"

const run = (file: string, args: ReadonlyArray<string> = []) =>
  new Promise<{ code: number | null; out: string }>((resolve) => {
    const child = execFile(process.execPath, ["--import", "tsx", file, ...args], {
      timeout: 120_000,
      env: { ...process.env, CI: "true" }
    })
    let out = ""
    child.stdout?.on("data", (chunk) => (out += String(chunk)))
    child.stderr?.on("data", (chunk) => (out += String(chunk)))
    child.on("close", (code) => resolve({ code, out }))
  })

interface Expected {
  readonly code: number
  readonly lines: ReadonlyArray<string>
}

/** What each example must do when run with no arguments. */
const expected: Readonly<Record<string, Expected>> = {
  "sleeps.ts": {
    code: 0,
    lines: ["slept 300ms", "sleeps: succeeded", "t1 -.-> t0", "precedence: succeeded", "started in this order: first link of the long chain, "]
  },
  "diamond.ts": { code: 0, lines: ["critical path: checkout -> compile -> package", "build: succeeded", "built: PACKAGE WITH 3 OBJECTS (1 LINT WARNING)", "gantt", "removing the checkout"] },
  "handle.ts": { code: 0, lines: ["started paused: { checkout: 'pending', build: 'pending', test: 'pending' }", "paused after build: { checkout: 'released', build: 'released', test: 'pending' }", "handle demo: succeeded"] },
  "processes.ts": { code: 0, lines: ["[test archives]", "build archives: succeeded"] },
  // "worker thread N: first file done" is logged inside a worker thread: it shows as the task's output
  "images.ts": { code: 0, lines: ["[digest files] [12/12] ", "[digest files] worker thread ", "digest images: succeeded", "[worker pool] all worker threads stopped"] },
  "requests.ts": { code: 0, lines: ["fetch items: succeeded"] },
  "notifier.ts": { code: 0, lines: ["notify: succeeded"] },
  "qemu-two-vms.ts": { code: 0, lines: ["VMs at once: 1 (pool vm: 1)", "two vms: succeeded"] },
  "layer.ts": { code: 0, lines: ["users: 19 rows cached", "query cost: 8", "cache dropped", "database down"] },
  "layers.ts": { code: 0, lines: ["provides Database, Metrics", "export / orders / dump  released", "nightly export: succeeded", "services provide: Database, Metrics", "groups: export / users, export / orders, export / items", "database closed"] },
  "html-report.ts": {
    code: 0,
    // a logged warning keeps its level on the terminal
    lines: ["[compile] WARN src/part7.c:3: warning: unused <script> tag in a comment", "build and test: succeeded", "report: ", ".taskgraph/html-report.html"]
  },
  // a fresh run or, when .taskgraph/runs.db already has it, the stored report: both name the graph
  "durable.ts": { code: 0, lines: ["durable build"] },
  "cluster.ts": {
    code: 0,
    lines: ["cluster of 3 runners on postgres://", "half-way: SIGKILLed runner", "which runner ran what:", " ran again: runner ", "== cluster demo: succeeded"]
  },
  "sync-tasks.ts": {
    code: 0,
    lines: ["Task.sync: 20201 tasks succeeded in ", "Task.make + Effect.sync (warm process): 20201 tasks succeeded in ", "same digest both ways: true"]
  },
  "promise-tasks.ts": {
    code: 0,
    lines: [
      "Task.promise: 301 tasks succeeded in ",
      "; 44850 bytes fetched",
      "  slow request 1: interrupted (stopped when broken request failed)",
      "  slow request 2: interrupted (stopped when broken request failed)",
      "  broken request: failed",
      "fail-fast: the server saw both slow requests' connections close (their fetches were aborted)"
    ]
  },
  "large-graph.ts": { code: 0, lines: ["built 100000 tasks", "ran 100000 tasks", ": succeeded", "10000 finalizers ran"] }
}

/** Examples not run here, and why. */
const runElsewhere: Readonly<Record<string, string>> = {
  "qemu-test.ts": "the flagship: test/qemu/pipeline.test.ts runs it, Ctrl+C included (its bad input is checked below)",
  "sharded-tests.ts": "boots VMs: test/qemu/sharded.test.ts runs it",
  "images.worker.ts": "the worker thread of images.ts, started by it"
}

/**
 * Examples that do not exit through `Main.runMain` (nor `Durable.runMain`, built on it), and why.
 * Every other example must, so Ctrl+C exits 130 after every finalizer ran.
 */
const notThroughMain: Readonly<Record<string, string>> = {
  "sleeps.ts": "a tour of `TaskGraph.run` as an Effect inside your own program: runs several graphs, prints their reports",
  "diamond.ts": "shows `TaskGraph.run` returning a report the program prints itself (critical path, Gantt)",
  "handle.ts": "shows `TaskGraph.start`: your own program drives the run through its handle (paused, events, resume)",
  "layer.ts": "shows `TaskGraph.toLayer`: the graph is a Layer provided to an ordinary program",
  "layers.ts": "shows `TaskGraph.run` with pools inside your own program, printing the report",
  "large-graph.ts": "a scale demo that runs two graphs (one interrupted on purpose) and prints timings",
  "promise-tasks.ts": "serves its own HTTP server and shows a run that fails on purpose, printing what each task ended as",
  "sync-tasks.ts": "runs the same graph two ways (Task.sync, Task.make) and compares their digests and timings",
  "images.worker.ts": "the worker thread of images.ts, not a program",
  "cluster.ts": "an orchestrator of processes (PostgreSQL, 3 runners, a submitter): its runners and its submitter exit through Durable.runnerMain and Durable.runRemoteMain (built on Main.runMain)"
}

const files = readdirSync("examples").filter((name) => name.endsWith(".ts")).sort()

describe("examples run", () => {
  it("every example has an expected outcome or a reason it is run elsewhere, and no entry is stale", () => {
    const missing = files.filter((file) => expected[file] === undefined && runElsewhere[file] === undefined)
    expect(missing, `add these examples to test/examples.test.ts: ${missing.join(", ")}`).toEqual([])
    const stale = [...Object.keys(expected), ...Object.keys(runElsewhere)].filter((file) => !files.includes(file))
    expect(stale, `these entries name no example: ${stale.join(", ")}`).toEqual([])
  })

  it("every example exits through Main.runMain (Ctrl+C exits 130) or says why not", () => {
    const bypassing = files.filter((file) =>
      notThroughMain[file] === undefined && !/\b(Main|Durable)\.runMain\(/.test(readFileSync(`examples/${file}`, "utf8"))
    )
    expect(bypassing, `run these through Main.runMain or add a reason to notThroughMain: ${bypassing.join(", ")}`).toEqual([])
    const stale = Object.keys(notThroughMain).filter((file) => !files.includes(file))
    expect(stale).toEqual([])
  })

  for (const file of files.filter((file) => expected[file] !== undefined)) {
    const { code: exitCode, lines } = expected[file]!
    it(`examples/${file}`, async () => {
      const { code, out } = await run(`examples/${file}`)
      expect(code, out).toBe(exitCode)
      for (const text of lines) expect(out).toContain(text)
    }, 130_000)
  }

  it("examples/qemu-test.ts --project /does/not/exist exits 2 at once, naming the path, before any VM starts", async () => {
    const { code, out } = await run("examples/qemu-test.ts", ["--project", "/does/not/exist"])
    expect(code, out).toBe(2)
    expect(out).toContain("/does/not/exist")
    expect(out).not.toContain("start vm")
  }, 130_000)

  it("examples/images.ts on Ctrl+C mid-digest: the workers stop, the temporary directories go, exit 130", async () => {
    const child = spawn(process.execPath, ["--import", "tsx", "examples/images.ts", "--files", "24", "--mb", "1"], {
      stdio: ["ignore", "pipe", "pipe"],
      env: { ...process.env, CI: "true" }
    })
    let out = ""
    const exited = new Promise<number | null>((resolve) => child.on("exit", (code) => resolve(code)))
    // the first file digested: the pool is busy with the others
    const digesting = new Promise<void>((resolve) => {
      const onData = (chunk: Buffer) => {
        out += String(chunk)
        if (/^\[digest files\] \[1\/24\] /m.test(out)) resolve()
      }
      child.stdout.on("data", onData)
      child.stderr.on("data", onData)
    })
    await Promise.race([digesting, exited])
    expect(out).toMatch(/^\[digest files\] \[1\/24\] /m)
    child.kill("SIGINT")
    const code = await exited
    expect(code, out).toBe(130)
    expect(out).toContain("[digest files] -- interrupted")
    expect(out).not.toContain("[digest files] [24/24]")
    expect(out).toMatch(/^\[worker pool\] all worker threads stopped, \d+ ms after Ctrl\+C$/m)
    expect(out).toMatch(/^== digest images: interrupted \(SIGINT\)/m)
    const input = out.match(/generated 24 files of 1 MB in (\S+)$/m)?.[1]
    expect(input, out).toBeDefined()
    expect(existsSync(input!)).toBe(false)
  }, 130_000)
})
