/**
 * Graphs inside tasks, seen by the reporters: a child run's tasks appear in
 * plain lines, JUnit and log files under their full names, without any
 * forwarding written by the user.
 */
import * as fs from "node:fs"
import * as os from "node:os"
import * as path from "node:path"
import { describe, expect, it } from "@effect/vitest"
import { Effect } from "effect"
import * as Main from "../src/Main.js"
import * as Reporter from "../src/Reporter.js"
import { Task, TaskGraph } from "../src/index.js"

const output = () => {
  let text = ""
  return { output: { write: (chunk: string) => (text += chunk, true) } as Reporter.Output, text: () => text }
}

describe("reporters and graphs inside tasks", () => {
  it.live("plain, JUnit and log files show the child's tasks under hierarchical names", () =>
    Effect.gen(function*() {
      const dir = fs.mkdtempSync(path.join(os.tmpdir(), "taskgraph-nested-"))
      try {
        const shards = Task.forEach("tests", ["shard 1", "shard 2"], (shard) => [
          Task.make("run tests", { run: Task.output(`passed in ${shard}`) })
        ])
        const out = output()
        yield* Main.run(TaskGraph.make("ci", [shards]), {
          reporter: Reporter.plain({ output: out.output }),
          logDir: path.join(dir, "logs"),
          junit: path.join(dir, "junit.xml")
        })
        expect(out.text()).toContain("[tests / shard 1 / run tests] passed in shard 1")
        expect(out.text()).toContain("[tests / shard 2 / run tests] passed in shard 2")
        expect(out.text()).toMatch(/tests \/ shard 2 \/ run tests\s+released/)
        const junit = fs.readFileSync(path.join(dir, "junit.xml"), "utf8")
        expect(junit).toContain(`name="tests / shard 1 / run tests"`)
        const logs = fs.readdirSync(path.join(dir, "logs", "tasks"))
        expect(logs).toContain("tests-shard-1-run-tests.log")
        expect(fs.readFileSync(path.join(dir, "logs", "tasks", "tests-shard-2-run-tests.log"), "utf8")).toContain(
          "passed in shard 2"
        )
      } finally {
        fs.rmSync(dir, { recursive: true, force: true })
      }
    }))
})
