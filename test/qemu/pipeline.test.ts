/**
 * The flagship pipeline, for real: the graph of ready-made QEMU tasks
 * (overlay → vm → port → ssh → rsync → tests) against the test guest, in
 * process and as the example program run by a child process (Ctrl+C and
 * SIGKILL of the runner). After every test: no QEMU of the test alive, no
 * overlay, no run directory.
 *
 * VM boots are the cost (~5-10 s of CPU each on this machine): four full
 * boots, three short-lived VMs.
 */
import type { FileSystem } from "@effect/platform"
import { NodeContext } from "@effect/platform-node"
import { afterEach, beforeAll, describe, expect, it } from "@effect/vitest"
import { Cause, Effect, Exit, Fiber, Option, Stream } from "effect"
import * as cp from "node:child_process"
import * as fs from "node:fs"
import * as os from "node:os"
import * as path from "node:path"
import * as GraphError from "../../src/GraphError.js"
import * as Qemu from "../../src/qemu/Qemu.js"
import * as QemuImg from "../../src/qemu/QemuImg.js"
import * as QemuTask from "../../src/qemu/QemuTask.js"
import * as TestGuest from "../../src/qemu/TestGuest.js"
import * as RunReport from "../../src/RunReport.js"
import type * as TaskEvent from "../../src/TaskEvent.js"
import * as TaskGraph from "../../src/TaskGraph.js"
import { eventually } from "../helpers/pids.js"
import { isGone } from "./helpers.js"

const repo = path.resolve(import.meta.dirname, "../..")
const fixtures = path.join(repo, "test/fixtures/qemu")
const exampleProject = path.join(repo, "examples/qemu-project")

let guest: QemuTask.BuiltGuest

beforeAll(async () => {
  guest = await Effect.runPromise(TestGuest.build().pipe(Effect.provide(NodeContext.layer)))
}, 180_000)

/** What each test started, checked (and cleaned, if a runner was SIGKILLed) after it. */
interface Leftovers {
  qemuPids: Array<number>
  paths: Array<string>
}
let started: Leftovers = { qemuPids: [], paths: [] }

afterEach(() => {
  const alive = started.qemuPids.filter((pid) => !isGone(pid))
  const files = started.paths.filter((p) => fs.existsSync(p))
  for (const pid of alive) process.kill(pid, "SIGKILL")
  for (const p of files) fs.rmSync(p, { recursive: true, force: true })
  started = { qemuPids: [], paths: [] }
  expect(alive, "QEMU processes left running").toEqual([])
  expect(files, "files left behind").toEqual([])
})

/** Records what the plain output / task output says was created: QEMU's pid, its run dir, the overlay. */
const track = (line: string) => {
  const vm = /qemu pid (\d+) .*run dir (\S+)/.exec(line)
  if (vm) {
    started.qemuPids.push(Number(vm[1]))
    started.paths.push(vm[2]!)
  }
  const overlay = /overlay (\S+) on /.exec(line)
  if (overlay) started.paths.push(overlay[1]!, path.dirname(overlay[1]!))
}

const machine = (name: string) =>
  QemuTask.testGuestMachine(guest, { name, powerdownTimeout: "3 seconds", quitTimeout: "2 seconds", killGrace: "1 second" })

const pipelineFor = (name: string, source: string) =>
  QemuTask.pipeline(name, { machine: machine(name), source: `${source}/`, command: "sh run-tests.sh", prefix: "" })

/**
 * Runs a graph, collecting its events; `onLine` sees every output line as it
 * comes (to act on a marker).
 */
const runCollecting = <E, R, P>(
  graph: TaskGraph.TaskGraph<E, R, P>,
  onLine: (event: TaskEvent.TaskOutput) => void = () => {}
) =>
  Effect.scoped(Effect.gen(function*() {
    const handle = yield* TaskGraph.start(graph, { pools: { vm: 1 } })
    const events: Array<TaskEvent.TaskEvent> = []
    const collector = yield* Effect.fork(
      Stream.runForEach(handle.events, (e) =>
        Effect.sync(() => {
          events.push(e)
          if (e._tag === "TaskOutput") {
            track(e.line)
            onLine(e)
          }
        }))
    )
    const exit = yield* Effect.exit(handle.await)
    yield* Fiber.join(collector)
    const lines = (task: string) =>
      events.flatMap((e) => (e._tag === "TaskOutput" && e.task === task ? [e.line] : []))
    return { exit, events, lines }
  }))

const failureOf = (cause: Cause.Cause<unknown>): unknown => Option.getOrUndefined(Cause.failureOption(cause))

describe("the pipeline in a graph (real QEMU)", () => {
  it.live("full cycle: the tests pass; session, VM, overlay released in that order; nothing left", () =>
    Effect.gen(function*() {
      const p = pipelineFor("pl-ok", exampleProject)
      const { events, exit, lines } = yield* runCollecting(TaskGraph.make("full cycle", p.tasks))
      expect(Exit.isSuccess(exit), Exit.isFailure(exit) ? Cause.pretty(exit.cause) : "").toBe(true)
      if (!Exit.isSuccess(exit)) return
      const report = exit.value
      expect(report.status).toBe("succeeded")
      expect(report.criticalPath).toEqual([
        "create overlay",
        "start vm",
        "wait for port",
        "wait for ssh",
        "rsync sources",
        "run tests"
      ])

      const passed = Option.getOrThrow(RunReport.value(report, "run tests")) as QemuTask.TestsPassed
      expect(passed.exitCode).toBe(0)
      expect(passed.command).toBe("sh run-tests.sh")
      expect(lines("run tests")).toContain("# 11 passed, 0 failed")
      expect(lines("run tests")).toContain("ok - base image content")
      expect(lines("wait for ssh").some((l) => l.startsWith("sshd answers: SSH-2.0-dropbear"))).toBe(true)
      expect(lines("rsync sources").some((l) => l.endsWith("run-tests.sh"))).toBe(true)
      const synced = Option.getOrThrow(RunReport.value(report, "rsync sources")) as QemuTask.Synced
      expect(synced.destination).toBe("/root/project")

      // dependents are released before what they use: SSH closes before the VM powers off,
      // the VM is gone before its overlay is deleted
      const released = events.flatMap((e) => (e._tag === "TaskReleased" ? [e.task] : []))
      const at = (task: string) => released.indexOf(task)
      expect(at("run tests")).toBeLessThan(at("wait for ssh"))
      expect(at("rsync sources")).toBeLessThan(at("wait for ssh"))
      expect(at("wait for ssh")).toBeLessThan(at("start vm"))
      expect(at("wait for port")).toBeLessThan(at("start vm"))
      expect(at("start vm")).toBeLessThan(at("create overlay"))
      // a temporary overlay holds nothing to keep: QMP quit at once, no power-down, no escalation
      expect(lines("start vm")).toContain("pl-ok: its disks are thrown away, quitting at once (QMP quit)")
      expect(lines("start vm").some((l) => l.includes("powering down (ACPI)") || l.includes("sending SIGTERM"))).toBe(false)

      const vm = Option.getOrThrow(RunReport.value(report, "start vm")) as Qemu.Vm
      const overlay = Option.getOrThrow(RunReport.value(report, "create overlay")) as QemuImg.Overlay
      expect(isGone(vm.pid)).toBe(true)
      expect(fs.existsSync(overlay.path)).toBe(false)
      expect(fs.existsSync(vm.runDir)).toBe(false)
    }).pipe(Effect.provide(NodeContext.layer)), 90_000)

  it.live("a failing remote test: its exit code is a typed failure; the VM is stopped, the overlay deleted", () =>
    Effect.gen(function*() {
      const p = pipelineFor("pl-fail", path.join(fixtures, "failing-project"))
      const { exit, lines } = yield* runCollecting(TaskGraph.make("failing tests", p.tasks))
      expect(Exit.isFailure(exit)).toBe(true)
      if (!Exit.isFailure(exit)) return
      const error = failureOf(exit.cause)
      expect(error).toBeInstanceOf(TaskGraph.RunFailedError)
      const run = error as TaskGraph.RunFailedError<unknown>
      expect(run.failures.map((f) => f.task), run.failures.map((f) => Cause.pretty(f.cause)).join("\n")).toEqual(["run tests"])
      const failed = failureOf(run.failures[0]!.cause)
      expect(failed).toBeInstanceOf(QemuTask.TestsFailedError)
      const tests = failed as QemuTask.TestsFailedError
      expect(tests.exitCode).toBe(3)
      expect(tests.output).toContain("not ok - FAILING-TEST: expected 4, got 5")
      expect(tests.message).toContain("`sh run-tests.sh` exited with code 3")
      expect(run.message).toContain(`task "run tests" failed: the tests failed`)

      const report = run.report
      expect(report.status).toBe("failed")
      for (const task of ["create overlay", "start vm", "wait for port", "wait for ssh", "rsync sources"]) {
        expect(Option.getOrThrow(RunReport.task(report, task)).status, task).toBe("released")
      }
      expect(lines("start vm")).toContain("pl-fail: its disks are thrown away, quitting at once (QMP quit)")
      const vm = Option.getOrThrow(RunReport.value(report, "start vm")) as Qemu.Vm
      const overlay = Option.getOrThrow(RunReport.value(report, "create overlay")) as QemuImg.Overlay
      expect(isGone(vm.pid)).toBe(true)
      expect(fs.existsSync(overlay.path)).toBe(false)
    }).pipe(Effect.provide(NodeContext.layer)), 90_000)

  it.live("QEMU killed from outside while the tests run: the run fails at once with QEMU's status", () =>
    Effect.gen(function*() {
      const p = pipelineFor("pl-kill", path.join(fixtures, "slow-project"))
      let killedAt = 0
      const { events, exit } = yield* runCollecting(TaskGraph.make("qemu dies", p.tasks), (e) => {
        if (e.task === "run tests" && e.line.startsWith("SLOW-TEST-STARTED") && killedAt === 0) {
          killedAt = Date.now()
          process.kill(started.qemuPids[0]!, "SIGKILL")
        }
      })
      const finishedAt = Date.now()
      expect(killedAt).toBeGreaterThan(0)
      // not the test's 300 s, not an SSH timeout: QEMU's exit is noticed, everything released
      expect(finishedAt - killedAt).toBeLessThan(5000)
      expect(Exit.isFailure(exit)).toBe(true)
      if (!Exit.isFailure(exit)) return
      const run = failureOf(exit.cause) as TaskGraph.RunFailedError<unknown>
      const vmFailure = run.failures.find((f) => f.task === "start vm")
      expect(vmFailure, run.message).toBeDefined()
      const exited = failureOf(vmFailure!.cause)
      expect(exited).toBeInstanceOf(Qemu.QemuExitedError)
      expect((exited as Qemu.QemuExitedError).status).toEqual({ _tag: "Signaled", signal: "SIGKILL" })
      expect((exited as Qemu.QemuExitedError).message).toContain("QEMU of VM pl-kill was killed by SIGKILL while the VM was in use")
      expect(RunReport.toMermaid(run.report)).toContain(":::failed")
      expect(events.some((e) => e._tag === "TaskFailed" && e.task === "start vm")).toBe(true)
    }).pipe(Effect.provide(NodeContext.layer)), 90_000)

  it.live("the compiler and the run catch a pipeline wired to another VM's tags", () =>
    Effect.gen(function*() {
      const a = QemuTask.tags("a")
      const b = QemuTask.tags("b")
      const overlay = QemuTask.overlay("overlay a", { provides: a.Overlay, image: { base: guest.baseImage } })
      const vm = QemuTask.vm("vm b", { overlay: b.Overlay, provides: b.Vm, options: machine("b").vm })
      const graph = TaskGraph.make("miswired", [overlay, vm])
      // @ts-expect-error "b/Overlay" is provided by no task: the graph cannot run without it
      const needsOnlyFs: Effect.Effect<unknown, unknown, FileSystem.FileSystem> = TaskGraph.run(graph, { pools: { vm: 1 } })
      const error = yield* Effect.flip(needsOnlyFs)
      expect(error).toBeInstanceOf(GraphError.MissingProviderError)
      expect((error as GraphError.MissingProviderError).message).toContain("b/Overlay")
      // and without a vm pool size the VM task cannot start: the run says so before anything runs
      const noPool = yield* Effect.flip(TaskGraph.run(TaskGraph.make("no pool", [overlay, QemuTask.vm("vm a", {
        overlay: a.Overlay,
        provides: a.Vm,
        options: machine("a").vm
      })])))
      expect(noPool.message).toContain("pass { pools: { vm: N } }")
    }).pipe(Effect.provide(NodeContext.layer)))
})

// ---- the example program, as a user runs it ----------------------------------------------------

interface Child {
  readonly child: cp.ChildProcess
  readonly output: () => string
  readonly waitFor: (pattern: RegExp, timeoutMs: number) => Promise<RegExpExecArray>
  readonly exited: Promise<{ readonly code: number | null; readonly signal: NodeJS.Signals | null }>
}

const spawnExample = (args: ReadonlyArray<string>): Child => {
  const child = cp.spawn(process.execPath, ["--import", "tsx", path.join(repo, "examples/qemu-test.ts"), ...args], {
    cwd: repo,
    env: { ...process.env, EFFECT_TASKGRAPH_REPORTER: "plain" },
    stdio: ["ignore", "pipe", "pipe"]
  })
  let out = ""
  let pending = ""
  const listeners = new Set<() => void>()
  const onData = (chunk: Buffer) => {
    out += chunk.toString()
    pending += chunk.toString()
    let i: number
    while ((i = pending.indexOf("\n")) >= 0) {
      track(pending.slice(0, i))
      pending = pending.slice(i + 1)
    }
    for (const l of listeners) l()
  }
  child.stdout!.on("data", onData)
  child.stderr!.on("data", onData)
  const exited = new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((resolve) =>
    child.on("close", (code, signal) => resolve({ code, signal }))
  )
  const waitFor = (pattern: RegExp, timeoutMs: number) =>
    new Promise<RegExpExecArray>((resolve, reject) => {
      const check = () => {
        const m = pattern.exec(out)
        if (m) {
          listeners.delete(check)
          clearTimeout(timer)
          resolve(m)
        }
      }
      const timer = setTimeout(() => {
        listeners.delete(check)
        reject(new Error(`no ${pattern} within ${timeoutMs} ms; output:\n${out}`))
      }, timeoutMs)
      listeners.add(check)
      void exited.then(() => {
        if (listeners.has(check)) {
          listeners.delete(check)
          clearTimeout(timer)
          reject(new Error(`exited before ${pattern}; output:\n${out}`))
        }
      })
      check()
    })
  return { child, output: () => out, waitFor, exited }
}

const vmStarted = /\[start vm\] vm: qemu pid (\d+) \(\w+\), .* run dir (\S+)/

describe("examples/qemu-test.ts as a child process (real QEMU)", () => {
  it("Ctrl+C during boot: exit 130 after a clean stop; no QEMU, no overlay, no run dir", async () => {
    const run = spawnExample([])
    const [, pid] = await run.waitFor(vmStarted, 60_000)
    expect(isGone(Number(pid))).toBe(false)
    expect(run.output()).not.toMatch(/\[wait for ssh\] -- ready/)
    run.child.kill("SIGINT")
    const { code } = await run.exited
    expect(code, run.output()).toBe(130)
    expect(run.output()).toMatch(/== SIGINT: stopping/)
    expect(run.output()).toMatch(/\[wait for ssh\] -- interrupted/)
    expect(run.output()).toMatch(/\[start vm\] -- released/)
    expect(run.output()).toMatch(/\[create overlay\] -- released/)
    // nothing to keep on a temporary overlay (and the guest could not answer the ACPI button yet):
    // straight to QMP quit, no power-down wait
    expect(run.output()).toMatch(/\[start vm\] vm: its disks are thrown away, quitting at once \(QMP quit\)/)
    expect(run.output()).not.toMatch(/powering down \(ACPI\)/)
    expect(run.output()).not.toMatch(/sending SIGTERM/)
    expect(isGone(Number(pid))).toBe(true)
    // the HTML report is written after a Ctrl+C too, and the summary names it
    const [, report] = /== report: (\S+report\.html)/.exec(run.output()) ?? []
    expect(report, run.output()).toBeDefined()
    expect(fs.readFileSync(report!, "utf8")).toContain(`"outcome":"interrupted","exitCode":130,"stoppedBy":"SIGINT"`)
  }, 60_000)

  it("Ctrl+C twice during boot while QEMU hangs: exit 130 at once; no QEMU, no run dir, no overlay dir left", async () => {
    const run = spawnExample([])
    const [, pid, runDir] = await run.waitFor(vmStarted, 60_000)
    const [, overlay] = await run.waitFor(/\[create overlay\] overlay (\S+) on /, 1_000)
    // a QEMU that answers nothing: the first Ctrl+C's release waits for it (quit, then SIGTERM)…
    process.kill(Number(pid), "SIGSTOP")
    run.child.kill("SIGINT")
    await run.waitFor(/== SIGINT: stopping/, 10_000)
    // …so the second one lands during the cleanup: no release runs after it
    run.child.kill("SIGINT")
    const { code } = await run.exited
    expect(code, run.output()).toBe(130)
    expect(run.output()).toMatch(/== forced exit \(second SIGINT\): killed \d+ process groups? without waiting/)
    expect(run.output()).not.toMatch(/\[start vm\] -- released/)
    // SIGKILLed by the forced exit (the kernel may take a moment to tear a stopped process down)
    expect(await eventually(() => isGone(Number(pid)), 2_000)).toBe(true)
    expect(fs.existsSync(runDir!), `run dir ${runDir}`).toBe(false)
    expect(fs.existsSync(path.dirname(overlay!)), `overlay dir ${path.dirname(overlay!)}`).toBe(false)
  }, 60_000)

  it("Ctrl+C while the tests run: the test task is interrupted, the VM quit at once, exit 130, nothing left", async () => {
    const run = spawnExample(["--project", path.join(fixtures, "slow-project")])
    const [, pid] = await run.waitFor(vmStarted, 60_000)
    await run.waitFor(/\[run tests\] SLOW-TEST-STARTED/, 90_000)
    run.child.kill("SIGINT")
    const { code } = await run.exited
    expect(code, run.output()).toBe(130)
    expect(run.output()).toMatch(/\[run tests\] -- interrupted/)
    expect(run.output()).not.toMatch(/SLOW-TEST-FINISHED/)
    // a temporary overlay: QMP quit at once, which QEMU obeys (no escalation to signals)
    expect(run.output()).toMatch(/\[start vm\] vm: its disks are thrown away, quitting at once \(QMP quit\)/)
    expect(run.output()).not.toMatch(/powering down \(ACPI\)|sending SIGTERM/)
    expect(run.output()).toMatch(/run tests once: interrupted/)
    expect(isGone(Number(pid))).toBe(true)
  }, 120_000)

  it("--watch: a change reruns rsync + tests; a change during a run cancels it; Ctrl+C quits the VM (130)", async () => {
    const project = fs.mkdtempSync(path.join(os.tmpdir(), "watch-project-"))
    started.paths.push(project)
    fs.cpSync(exampleProject, project, { recursive: true })
    const run = spawnExample(["--watch", "--project", project])
    const [, pid] = await run.waitFor(vmStarted, 60_000)
    await run.waitFor(/── run 1: tests passed/, 90_000)

    // one burst of changes is one rerun (debounced); this one starts a test that never ends…
    fs.writeFileSync(path.join(project, "tests/test_slow.sh"), "echo started\nsleep 300\n")
    fs.appendFileSync(path.join(project, "tests/test_calc.sh"), "\n# touched\n")
    await run.waitFor(/\[watch and test \/ run 2 \/ run tests\] # tests\/test_slow\.sh/, 30_000)
    expect(run.output()).toMatch(/── run 2 \(/)
    expect(run.output()).not.toMatch(/── run 3/)

    // …so a change during it cancels it (rsync deletes the file in the guest) and starts over
    fs.rmSync(path.join(project, "tests/test_slow.sh"))
    await run.waitFor(/── run 3: tests passed/, 30_000)
    expect(run.output()).toMatch(/── run 2 cancelled/)
    expect(run.output()).toMatch(/\[watch and test \/ run 3 \/ rsync sources\] \*deleting +tests\/test_slow\.sh/)
    // run 2's tasks, under their full names, were interrupted by the change
    expect(run.output()).toMatch(/\[watch and test \/ run 2 \/ run tests\] -- interrupted/)

    run.child.kill("SIGINT")
    const { code } = await run.exited
    expect(code, run.output()).toBe(130)
    expect(run.output()).toMatch(/\[start vm\] vm: its disks are thrown away, quitting at once \(QMP quit\)/)
    expect(isGone(Number(pid))).toBe(true)
    fs.rmSync(project, { recursive: true, force: true })
  }, 120_000)

  it("SIGKILL of the runner: QEMU is gone within a second; the next overlay sweeps the dead runner's", async () => {
    const run = spawnExample([])
    const [, pid, runDir] = await run.waitFor(vmStarted, 60_000)
    const [, overlay] = await run.waitFor(/\[create overlay\] overlay (\S+) on /, 1_000)
    run.child.kill("SIGKILL")
    await run.exited
    const killedAt = Date.now()
    while (!isGone(Number(pid)) && Date.now() - killedAt < 3_000) await new Promise((r) => setTimeout(r, 20))
    expect(isGone(Number(pid))).toBe(true)
    expect(Date.now() - killedAt).toBeLessThan(1_000)
    // the runner could not delete its overlay; the next overlay created on this machine does
    expect(fs.existsSync(overlay!)).toBe(true)
    await Effect.runPromise(
      Effect.scoped(QemuImg.overlay({ base: guest.baseImage })).pipe(Effect.provide(NodeContext.layer))
    )
    expect(fs.existsSync(path.dirname(overlay!))).toBe(false)
    // (its QEMU run dir is swept by the next Qemu.start, tested in vm-lifecycle.test.ts)
    expect(fs.readFileSync(path.join(runDir!, "owner.pid"), "utf8")).toBe(String(run.child.pid))
    fs.rmSync(runDir!, { recursive: true, force: true })
  }, 60_000)
})
