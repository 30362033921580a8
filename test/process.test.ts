/**
 * Process: real programs (sh, seq, cat, sleep), real signals, real pipes.
 * Output is captured where `Task.output` delivers it, by setting the task
 * hooks FiberRef the scheduler would set.
 */
import { describe, expect, it } from "@effect/vitest"
import * as fs from "node:fs"
import * as os from "node:os"
import * as path from "node:path"
import { Cause, Deferred, Effect, Exit, Fiber, Scope, Stream } from "effect"
import * as Process from "../src/Process.js"
import { isGone } from "./helpers/pids.js"
import type { OutputStream, TaskHooks } from "../src/internal/taskHooks.js"
import { currentTaskHooks } from "../src/internal/taskHooks.js"

/** Captures what `Task.output` receives, as the scheduler's hooks would. */
const capture = (onLine?: (stream: OutputStream, line: string) => void, onWatcherFailed?: (cause: Cause.Cause<unknown>) => void) => {
  const lines: Array<readonly [OutputStream, string]> = []
  const hooks: TaskHooks = {
    name: "test task",
    output: (stream, line) => {
      lines.push([stream, line])
      onLine?.(stream, line)
    },
    watcherFailed: (cause) => onWatcherFailed?.(cause)
  }
  const within = <A, E, R>(effect: Effect.Effect<A, E, R>) => Effect.locally(effect, currentTaskHooks, hooks)
  const of = (stream: OutputStream) => lines.filter(([s]) => s === stream).map(([, line]) => line)
  return { lines, within, of }
}


const numbers = (n: number) => Array.from({ length: n }, (_, i) => String(i + 1))

describe("Process.run output", () => {
  it.live("delivers interleaved stdout/stderr lines in order, with their stream names", () => {
    // The program prints its next line only after we acknowledged the previous
    // one, so the order across the two pipes is fixed by causality, and the
    // test checks that each line reached the task before the next was printed.
    const { lines, within } = capture()
    return within(Effect.scoped(Effect.gen(function*() {
      const proc = yield* Process.start("sh", [
        "-c",
        `i=1
         while read ack; do
           if [ $((i % 2)) -eq 0 ]; then echo "err $i" >&2; else echo "out $i"; fi
           [ $i -eq 6 ] && exit 0
           i=$((i + 1))
         done`
      ])
      const acks = yield* proc.lines.pipe(
        Stream.take(5),
        Stream.runForEach(() => proc.write("ack\n")),
        Effect.fork
      )
      yield* proc.write("ack\n")
      expect(yield* proc.exitCode).toBe(0)
      yield* Fiber.join(acks)
      expect(lines).toEqual([
        ["stdout", "out 1"],
        ["stderr", "err 2"],
        ["stdout", "out 3"],
        ["stderr", "err 4"],
        ["stdout", "out 5"],
        ["stderr", "err 6"]
      ])
    })))
  })

  it.live("keeps each stream's order, strips CRLF, and keeps a last line without newline", () => {
    const { within, of } = capture()
    return within(Effect.gen(function*() {
      const result = yield* Process.run("sh", [
        "-c",
        `printf 'a\\nb\\r\\n'; printf 'e1\\ne2' >&2; printf 'c'`
      ], { collect: true })
      expect(of("stdout")).toEqual(["a", "b", "c"])
      expect(of("stderr")).toEqual(["e1", "e2"])
      expect(result.stdout).toBe("a\nb\nc")
      expect(result.stderr).toBe("e1\ne2")
    }))
  })

  it.live("drains more than 1 MB on each stream without dead-lock, every line in order", () => {
    // stderr is written completely before stdout: a reader that drains only
    // stdout (or only after exit) blocks for ever once the 64 KB pipe is full.
    const { within, of } = capture()
    return within(Effect.gen(function*() {
      const result = yield* Process.run("sh", ["-c", "seq 1 200000 >&2; seq 1 200000; seq 1 200000 >&2"], {
        collect: true
      })
      expect(result.exitCode).toBe(0)
      expect(result.stdout.length).toBeGreaterThan(1_000_000)
      expect(result.stderr.length).toBeGreaterThan(2_000_000)
      expect(of("stdout")).toEqual(numbers(200000))
      expect(of("stderr")).toEqual([...numbers(200000), ...numbers(200000)])
    }))
  }, 60_000)

  it.live("feeds input to stdin, and gives end-of-file by default", () =>
    Effect.gen(function*() {
      const fed = yield* Process.run("cat", [], { input: "hello\nworld\n", collect: true, output: "none" })
      expect(fed.stdout).toBe("hello\nworld")
      const empty = yield* Process.run("cat", [], { collect: true, output: "none" })
      expect(empty.stdout).toBe("")
    }))

  it.live("merges or replaces the environment; args of a shell script are positional", () =>
    Effect.gen(function*() {
      const opts = { collect: true, output: "none" } as const
      const merged = yield* Process.run("sh", ["-c", `echo "$FOO|$HOME"`], { ...opts, env: { FOO: "bar" } })
      expect(merged.stdout).toBe(`bar|${process.env["HOME"]}`)
      const removed = yield* Process.run("sh", ["-c", `echo "$FOO|$HOME"`], {
        ...opts,
        env: { FOO: "bar", HOME: undefined }
      })
      expect(removed.stdout).toBe("bar|")
      const replaced = yield* Process.run("/bin/sh", ["-c", `echo "$FOO|$HOME"`], {
        ...opts,
        env: { FOO: "x" },
        extendEnv: false
      })
      expect(replaced.stdout).toBe("x|")
      const shell = yield* Process.run(`echo "$1-$2"; echo "$#"`, ["a b; rm -rf /", "c"], { ...opts, shell: true })
      expect(shell.stdout).toBe("a b; rm -rf /-c\n2")
      const cwd = yield* Process.run("pwd", [], { ...opts, cwd: "/tmp" })
      expect(cwd.stdout).toBe("/tmp")
    }))
})

describe("Process.run failures", () => {
  it.live("a non-zero exit names the program and the code, and ends with the last lines of stderr", () =>
    Effect.gen(function*() {
      const error = yield* Effect.flip(Process.run("sh", [
        "-c",
        "echo progress; for i in $(seq 1 30); do echo \"problem $i\" >&2; done; exit 3"
      ], { output: "none" }))
      expect(error._tag).toBe("ProcessExitError")
      if (error._tag !== "ProcessExitError") return
      expect(error.exitCode).toBe(3)
      expect(error.stderrTail).toEqual(numbers(30).slice(10).map((i) => `problem ${i}`))
      expect(error.message).toMatch(/^`sh -c .*` exited with code 3\./)
      expect(error.message).toContain("Last 20 lines of stderr:")
      expect(error.message.endsWith("  problem 30")).toBe(true)
      expect(error.message).not.toContain("problem 10\n")
    }))

  it.live("accepts the exit codes it is told to accept", () =>
    Effect.gen(function*() {
      const result = yield* Process.run("sh", ["-c", "exit 1"], { acceptExitCodes: [0, 1] })
      expect(result.exitCode).toBe(1)
      const error = yield* Effect.flip(Process.run("sh", ["-c", "exit 2"], { acceptExitCodes: [0, 1] }))
      expect(error._tag === "ProcessExitError" && error.exitCode).toBe(2)
    }))

  it.live("a program killed by a signal fails with the signal's name", () =>
    Effect.gen(function*() {
      const error = yield* Effect.flip(Process.run("sh", ["-c", "echo dying >&2; kill -KILL $$"], { output: "none" }))
      expect(error._tag).toBe("ProcessExitError")
      if (error._tag !== "ProcessExitError") return
      expect(error.signal).toBe("SIGKILL")
      expect(error.exitCode).toBeUndefined()
      expect(error.message).toContain("was killed by signal SIGKILL")
      expect(error.message.endsWith("  dying")).toBe(true)
    }))

  it.live("a missing binary says which one and that it is not installed or not on PATH", () =>
    Effect.gen(function*() {
      const error = yield* Effect.flip(Process.run("definitely-not-installed-xyz", ["--version"]))
      expect(error._tag).toBe("ProcessNotFoundError")
      expect(error.message).toContain("`definitely-not-installed-xyz` is not installed or not on PATH")
      const byPath = yield* Effect.flip(Process.run("./no/such/tool", []))
      expect(byPath._tag).toBe("ProcessNotFoundError")
      expect(byPath.message).toContain("`./no/such/tool` does not exist")
      const env = yield* Effect.flip(Process.run("sh", [], { env: { PATH: "/nonexistent" } }))
      expect(env.message).toContain("searched PATH: /nonexistent")
    }))

  it.live("a missing working directory is reported as such, not as a missing binary", () =>
    Effect.gen(function*() {
      const error = yield* Effect.flip(Process.run("ls", [], { cwd: "/no/such/dir" }))
      expect(error._tag).toBe("ProcessSpawnError")
      expect(error.message).toBe("Could not start `ls`: the working directory /no/such/dir does not exist.")
    }))

  it.live("a file that is not executable is reported as such", () =>
    Effect.gen(function*() {
      const dir = fs.mkdtempSync(path.join(os.tmpdir(), "process-test-"))
      const file = path.join(dir, "tool")
      fs.writeFileSync(file, "#!/bin/sh\necho hi\n", { mode: 0o644 })
      const error = yield* Effect.flip(Process.run(file, []))
      fs.rmSync(dir, { recursive: true })
      expect(error._tag).toBe("ProcessSpawnError")
      expect(error.message).toContain(`${file} is not an executable file`)
    }))
})

describe("Process lifetime", () => {
  it.live("release: SIGTERM, grace, then SIGKILL to the whole group, bounded, grandchild included", () =>
    Effect.gen(function*() {
      const scope = yield* Scope.make()
      // Both the shell and its background sleep ignore SIGTERM (ignored
      // signals are inherited), so only the SIGKILL after the grace ends them.
      const proc = yield* Process.start("sh", ["-c", `trap "" TERM; sleep 1000 & echo "pids $$ $!"; wait`], {
        grace: "300 millis",
        output: "none"
      }).pipe(Scope.extend(scope))
      const line = yield* Process.waitForLine(proc, /^pids /)
      const [shell, grandchild] = line.line.split(" ").slice(1).map(Number) as [number, number]
      expect(shell).toBe(proc.pid)
      expect(isGone(grandchild)).toBe(false)
      expect((yield* Process.running).map((p) => p.pid)).toContain(proc.pid)

      const started = Date.now()
      yield* Scope.close(scope, Exit.void)
      // the release waited the grace (a lower bound: a loaded machine only makes it later), then killed both
      expect(Date.now() - started).toBeGreaterThanOrEqual(290)
      expect(isGone(shell)).toBe(true)
      expect(isGone(grandchild)).toBe(true)
      expect((yield* Process.running).map((p) => p.pid)).not.toContain(proc.pid)
    }))

  it.live("release: a program that honours SIGTERM stops at once, and what it prints meanwhile is kept", () => {
    const { within, of } = capture()
    return within(Effect.gen(function*() {
      yield* Effect.scoped(Effect.gen(function*() {
        // a grace far longer than the test's timeout: only the program's own exit on SIGTERM ends the release in time
        const proc = yield* Process.start("sh", ["-c", `trap 'echo "got TERM"; exit 0' TERM; echo ready; sleep 1000 & wait`], {
          grace: "1 hour"
        })
        yield* Process.waitForLine(proc, "ready")
      }))
      expect(of("stdout")).toEqual(["ready", "got TERM"])
    }))
  })

  it.live("interrupting run kills the program", () =>
    Effect.gen(function*() {
      const pid = yield* Deferred.make<number>()
      const { within } = capture((_, line) => {
        if (line.startsWith("pid ")) Deferred.unsafeDone(pid, Effect.succeed(Number(line.slice(4))))
      })
      const fiber = yield* Effect.fork(within(Process.run("sh", ["-c", `echo "pid $$"; exec sleep 1000`])))
      const child = yield* Deferred.await(pid)
      expect(isGone(child)).toBe(false)
      yield* Fiber.interrupt(fiber)
      expect(isGone(child)).toBe(true)
      expect((yield* Process.running).map((p) => p.pid)).not.toContain(child)
    }))

  it.live("run stops what the program left running in the background once it exits", () =>
    Effect.gen(function*() {
      const result = yield* Process.run("sh", ["-c", `sleep 1000 & echo $!`], { collect: true, output: "none" })
      expect(isGone(Number(result.stdout))).toBe(true)
    }))

  it.live("killAllSync signals every live group at once", () =>
    Effect.scoped(Effect.gen(function*() {
      const a = yield* Process.start("sleep", ["1000"])
      const b = yield* Process.start("sleep", ["1000"])
      const live = (yield* Process.running).map((p) => p.pid)
      expect(live).toEqual(expect.arrayContaining([a.pid, b.pid]))
      expect(Process.killAllSync()).toBeGreaterThanOrEqual(2)
      expect(yield* a.await).toEqual({ _tag: "Signaled", signal: "SIGKILL" })
      expect(yield* b.await).toEqual({ _tag: "Signaled", signal: "SIGKILL" })
    })))

  it.live("stop, exitCode and kill of a started program", () =>
    Effect.scoped(Effect.gen(function*() {
      const sleeper = yield* Process.start("sleep", ["1000"])
      expect(yield* sleeper.isRunning).toBe(true)
      expect(yield* sleeper.stop).toEqual({ _tag: "Signaled", signal: "SIGTERM" })
      expect(yield* sleeper.isRunning).toBe(false)

      const failing = yield* Process.start("sh", ["-c", "echo broken >&2; exit 5"], { output: "none" })
      const error = yield* Effect.flip(failing.exitCode)
      expect(error.exitCode).toBe(5)
      expect(error.stderrTail).toEqual(["broken"])

      const hup = yield* Process.start("sleep", ["1000"])
      yield* hup.kill("SIGHUP")
      expect(yield* hup.await).toEqual({ _tag: "Signaled", signal: "SIGHUP" })
    })))
})

describe("Process.start output", () => {
  it.live("lines replays what was printed before the subscription, and ends with the output", () =>
    Effect.scoped(Effect.gen(function*() {
      const proc = yield* Process.start("sh", ["-c", "echo one; echo two >&2"], { output: "none" })
      yield* proc.await
      const lines = yield* Stream.runCollect(proc.lines)
      expect(Array.from(lines).sort((x, y) => x.line.localeCompare(y.line))).toEqual([
        { stream: "stdout", line: "one" },
        { stream: "stderr", line: "two" }
      ])
    })))

  it.live("waitForLine fails with the exit and stderr when the program exits first", () =>
    Effect.scoped(Effect.gen(function*() {
      const proc = yield* Process.start("sh", ["-c", "echo starting; echo 'port in use' >&2; exit 2"], {
        output: "none"
      })
      const error = yield* proc.pipe(Process.waitForLine(/listening/), Effect.flip)
      expect(error.exitCode).toBe(2)
      expect(error.message).toContain("exited with code 2 before printing a line matching /listening/.")
      expect(error.message.endsWith("  port in use")).toBe(true)
    })))

  it.live("watch makes an unexpected exit the task's failure", () =>
    Effect.gen(function*() {
      const failed = yield* Deferred.make<Cause.Cause<unknown>>()
      const { within } = capture(undefined, (cause) => Deferred.unsafeDone(failed, Effect.succeed(cause)))
      yield* within(Effect.scoped(Effect.gen(function*() {
        const proc = yield* Process.start("sh", ["-c", "read line; echo crashed >&2; exit 4"])
        yield* Process.watch(proc)
        yield* proc.write("go\n")
        const cause = yield* Deferred.await(failed)
        expect(Cause.pretty(cause)).toContain("exited with code 4 while it was still needed")
      })))
    }))

  it.live("writing to a closed stdin is a typed error", () =>
    Effect.scoped(Effect.gen(function*() {
      const proc = yield* Process.start("cat", [], { output: "none" })
      yield* proc.endStdin
      const error = yield* Effect.flip(proc.write("late\n"))
      expect(error._tag).toBe("ProcessStdinError")
      expect(error.message).toContain("stdin is closed")
      const ignored = yield* Process.start("sleep", ["1000"], { stdin: "ignore" })
      const notPipe = yield* Effect.flip(ignored.write("x"))
      expect(notPipe.message).toContain(`start it with stdin: "pipe"`)
    })))
})

describe("Process under the TestClock", () => {
  it.effect("run and the kill escalation use the real clock, so tests with a TestClock do not hang", () =>
    Effect.gen(function*() {
      const result = yield* Process.run("echo", ["hi"], { collect: true, output: "none" })
      expect(result.stdout).toBe("hi")
      const proc = yield* Effect.scoped(Effect.gen(function*() {
        const proc = yield* Process.start("sh", ["-c", `trap "" TERM; echo ready; exec sleep 1000`], {
          grace: "100 millis",
          output: "none"
        })
        yield* Process.waitForLine(proc, "ready")
        return proc
      }))
      expect(yield* proc.await).toEqual({ _tag: "Signaled", signal: "SIGKILL" })
    }))
})
