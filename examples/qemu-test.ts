/**
 * The flagship: run a project's tests in a fresh VM, as one graph.
 *
 *   build test guest ─> create overlay ─> start vm ─> wait for port ─> wait for ssh ─> rsync sources ─> run tests
 *
 * The test guest (a tiny Debian-built Linux, see scripts/guest.sh) is built
 * on the first run and cached. The VM boots on a throw-away qcow2 overlay,
 * the sources of examples/qemu-project are copied in with rsync and its
 * tests run over SSH. Whatever happens (a failing test, QEMU dying, Ctrl+C),
 * the SSH session is closed, the VM stopped and the overlay deleted, in
 * that order. At the end: the summary and the path of the HTML report
 * (`.taskgraph/report.html`: the executed graph, the timeline, every task's
 * output; open it in a browser).
 *
 *   npx tsx examples/qemu-test.ts                    # run the tests once: exit 0, or 1 if a test failed
 *   npx tsx examples/qemu-test.ts --watch            # keep the VM up; rerun rsync + tests on every change
 *                                                    # (each rerun a graph inside the watching task: `watch and test / run 2 / run tests`)
 *   npx tsx examples/qemu-test.ts --project DIR      # another project (its run-tests.sh is run)
 *   npx tsx examples/qemu-test.ts --mermaid          # also print the executed graph as Mermaid text
 *   npx tsx examples/qemu-test.ts --run-id ci-42     # durable: killed during the tests, the same command
 *                                                    # resumes: the guest is restored, the VM group runs again
 *
 * Exit codes: 0 success, 1 a task failed (e.g. a test), 2 bad arguments,
 * 130 Ctrl+C (after a clean stop: QMP quit, as the overlay is thrown away; a
 * second Ctrl+C kills at once and removes the temporary directories).
 * The live view is used on a terminal, plain `[task] line` output otherwise.
 */
import { FileSystem } from "@effect/platform"
import * as NodeFileSystem from "@effect/platform-node/NodeFileSystem"
import * as ParcelWatcher from "@effect/platform-node/NodeFileSystem/ParcelWatcher"
import { Effect, Either, Layer, Option, Stream } from "effect"
import * as NodeFs from "node:fs"
import * as NodePath from "node:path"
import { fileURLToPath } from "node:url"
import { parseArgs } from "node:util"
import { Task, TaskGraph } from "effect-taskgraph"
import { Durable } from "effect-taskgraph/durable"
import { Main } from "effect-taskgraph/node"
import { QemuTask } from "effect-taskgraph/qemu"

const here = NodePath.dirname(fileURLToPath(import.meta.url))

const args = (() => {
  try {
    return parseArgs({
      options: {
        watch: { type: "boolean", default: false },
        project: { type: "string", default: NodePath.join(here, "qemu-project") },
        mermaid: { type: "boolean", default: false },
        "run-id": { type: "string" },
        store: { type: "string" },
        help: { type: "boolean", short: "h", default: false }
      }
    }).values
  } catch (e) {
    console.error(`${e instanceof Error ? e.message : String(e)}\nusage: qemu-test.ts [--watch] [--project DIR] [--mermaid] [--run-id ID [--store FILE]]`)
    process.exit(Main.ExitCode.Usage)
  }
})()
if (args.help) {
  console.log("usage: qemu-test.ts [--watch] [--project DIR] [--mermaid] [--run-id ID [--store FILE]]")
  process.exit(0)
}
const project = NodePath.resolve(args.project)
const testCommand = "sh run-tests.sh"

// Check what can be checked before anything starts (no guest build, no VM boot to fail late at rsync).
const badInput = ((): string | undefined => {
  try {
    if (!NodeFs.statSync(project).isDirectory()) return `--project ${project}: not a directory`
    NodeFs.accessSync(project, NodeFs.constants.R_OK | NodeFs.constants.X_OK)
  } catch (e) {
    const code = (e as NodeJS.ErrnoException).code
    return `--project ${project}: ${code === "ENOENT" ? "no such directory" : code === "EACCES" ? "not readable" : String(e)}`
  }
  if (!NodeFs.existsSync(NodePath.join(project, "run-tests.sh"))) {
    return `--project ${project}: it has no run-tests.sh (the test command is \`${testCommand}\`)`
  }
  return undefined
})()
if (badInput !== undefined) {
  console.error(`error: ${badInput}\nusage: qemu-test.ts [--watch] [--project DIR]`)
  process.exit(Main.ExitCode.Usage)
}

// ---- the graph ------------------------------------------------------------------------------

const guest = QemuTask.testGuest("build test guest")

const vm = QemuTask.pipeline("vm", {
  requires: [QemuTask.Guest],
  machine: Effect.map(QemuTask.Guest, (g) => QemuTask.testGuestMachine(g)),
  source: `${project}/`,
  destination: "/root/project",
  command: testCommand,
  prefix: ""
})

const once = TaskGraph.make("run tests once", [guest, ...vm.tasks])

// ---- --watch: the same VM; rsync + tests rerun (as a graph inside the task) on every change --

const seconds = (ms: number) => `${(ms / 1000).toFixed(1)}s`

/**
 * One rerun: the very same rsync and test tasks, as a graph run inside the
 * watching task. It joins this run (graphs inside tasks): its tasks are in the
 * live view, the output and the report as `watch and test / run N / run tests`,
 * with nothing forwarded by hand. A failed test is reported, not fatal.
 */
const cycle = (n: number, why: string) =>
  Effect.gen(function*() {
    yield* Task.output(`── run ${n} (${why})`, "log")
    const result = yield* Effect.either(TaskGraph.run(TaskGraph.make(`run ${n}`, [vm.rsync, vm.tests])))
    if (Either.isRight(result)) {
      const total = Option.getOrElse(result.right.durationMs, () => 0)
      yield* Task.output(`── run ${n}: tests passed in ${seconds(total)}; watching for changes`, "log")
    } else {
      const first = result.left.message.split("\n")[0]
      yield* Task.output(`── run ${n}: FAILED: ${first}; watching for changes`, "stderr")
    }
  }).pipe(Effect.onInterrupt(() => Task.output(`── run ${n} cancelled`, "log")))

/** FileSystem.watch with the ParcelWatcher backend (absolute paths, batched, recursive). */
const ParcelFs = NodeFileSystem.layer.pipe(Layer.provide(ParcelWatcher.layer))

const watchAndTest = Task.make("watch and test", {
  requires: [vm.tags.SshSession],
  run: Effect.gen(function*() {
    const fs = yield* FileSystem.FileSystem
    yield* Task.output(`watching ${project} (Ctrl+C to power down and exit)`, "log")
    let n = 0
    const changes = fs.watch(project, { recursive: true }).pipe(
      Stream.map((e) => `${e._tag.toLowerCase()} ${NodePath.relative(project, e.path) || "."}`),
      Stream.debounce("200 millis")
    )
    // a change while a run is going cancels it (rsync and the remote tests are stopped) and starts over
    return yield* Stream.concat(Stream.make("start"), changes).pipe(
      Stream.flatMap((why) => Stream.fromEffect(cycle(++n, why)), { switch: true }),
      Stream.runDrain
    )
  }).pipe(Effect.provide(ParcelFs))
})

const watching = TaskGraph.make("run tests on every change", [guest, vm.overlay, vm.vm, vm.port, vm.ssh, watchAndTest])

// ---- run ------------------------------------------------------------------------------------

// the summary ends with the report's path ("report: …/.taskgraph/report.html")
const options = { pools: { vm: 1 }, html: ".taskgraph/report.html", mermaid: args.mermaid }
const runId = args["run-id"]
if (args.watch) Main.runMain(watching, options)
else if (runId !== undefined) Durable.runMain(once, { ...options, runId, store: args.store })
else Main.runMain(once, options)
