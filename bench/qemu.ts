/**
 * The QEMU cycle (overlay → boot → SSH → rsync → tests → power-down) through
 * the graph, side by side with a plain shell script doing the same steps with
 * an `ssh` retry loop (bench/qemu-shell.sh), interleaved, same guest, same
 * project (examples/qemu-project).
 *
 * Variants:
 * - graph: the pipeline graph run in this process (`TaskGraph.start`), timed
 *   from the run's start to its end (everything released, VM powered off);
 * - example: `node --import tsx examples/qemu-test.ts` as a child process,
 *   wall time (Node + tsx start-up and the printed report included);
 * - shell: `bash bench/qemu-shell.sh`, wall time.
 *
 * SSH-ready lag, from the moment `GUEST-READY` (printed by the guest right
 * after it started sshd) reaches the host on the serial console:
 * - to sshd's banner seen by the probes (the graph's detection itself);
 * - to SSH usable: the graph's "wait for ssh" task ready (banner + handshake
 *   with the pinned host key done); the shell's first successful `ssh … true`.
 *
 *   npx tsx bench/qemu.ts            # 3 runs of each
 *   npx tsx bench/qemu.ts --runs 5
 *
 * Prints a markdown table; writes bench/results/qemu.json.
 */
import { NodeContext } from "@effect/platform-node"
import { Effect, Fiber, Option, Stream } from "effect"
import { execFile } from "node:child_process"
import * as fs from "node:fs"
import * as os from "node:os"
import * as path from "node:path"
import { fileURLToPath } from "node:url"
import { parseArgs } from "node:util"
import * as QemuTask from "../src/qemu/QemuTask.js"
import * as TestGuest from "../src/qemu/TestGuest.js"
import * as TaskGraph from "../src/TaskGraph.js"

const repo = path.resolve(path.dirname(fileURLToPath(import.meta.url)), "..")
const project = path.join(repo, "examples/qemu-project")
const runs = Number(parseArgs({ options: { runs: { type: "string", default: "3" } } }).values.runs)

interface Sample {
  /** whole cycle, ms */
  readonly total: number
  /** from the start to GUEST-READY on the serial console, ms */
  readonly guestReady?: number | undefined
  /** from the start to SSH usable, ms */
  readonly sshReady?: number | undefined
  /** sshReady - guestReady, ms */
  readonly lag?: number | undefined
  /** the SSH banner seen (sshd answers) - guestReady, ms: the detection itself */
  readonly bannerLag?: number | undefined
}

// ---- the graph, in process -------------------------------------------------------------------

const guestTask = QemuTask.testGuest("build test guest")
const pipeline = QemuTask.pipeline("vm", {
  requires: [QemuTask.Guest],
  machine: Effect.map(QemuTask.Guest, (g) => QemuTask.testGuestMachine(g)),
  source: `${project}/`,
  command: "sh run-tests.sh",
  prefix: ""
})
const graph = TaskGraph.make("run tests once", [guestTask, ...pipeline.tasks])

const viaGraph: Effect.Effect<Sample, unknown> = Effect.scoped(Effect.gen(function*() {
  const handle = yield* TaskGraph.start(graph, { pools: { vm: 1 } })
  let guestReadyAt: number | undefined
  let sshReadyAt: number | undefined
  let bannerAt: number | undefined
  const watcher = yield* Effect.fork(Stream.runForEach(handle.events, (e) =>
    Effect.sync(() => {
      if (e._tag === "TaskOutput" && guestReadyAt === undefined && e.line.includes("GUEST-READY")) guestReadyAt = e.timestamp
      if (e._tag === "TaskOutput" && e.task === "wait for ssh" && e.line.startsWith("sshd answers")) bannerAt = e.timestamp
      if (e._tag === "TaskReady" && e.task === "wait for ssh") sshReadyAt = e.timestamp
    })))
  const report = yield* handle.await
  yield* Fiber.join(watcher)
  if (guestReadyAt === undefined || sshReadyAt === undefined) return yield* Effect.fail("no GUEST-READY or ssh ready seen")
  return {
    total: Option.getOrThrow(report.durationMs),
    guestReady: guestReadyAt - report.startedAt,
    sshReady: sshReadyAt - report.startedAt,
    lag: sshReadyAt - guestReadyAt,
    bannerLag: bannerAt === undefined ? undefined : bannerAt - guestReadyAt
  }
})).pipe(Effect.provide(NodeContext.layer))

// ---- child processes -------------------------------------------------------------------------

const exec = (file: string, args: ReadonlyArray<string>) =>
  new Promise<{ readonly wall: number; readonly stdout: string }>((resolve, reject) => {
    const started = performance.now()
    execFile(file, args, { cwd: repo, env: { ...process.env, EFFECT_TASKGRAPH_REPORTER: "plain" }, maxBuffer: 1 << 24 }, (error, stdout, stderr) => {
      if (error) reject(new Error(`${file} ${args.join(" ")} failed: ${error.message}\n${stdout}\n${stderr}`))
      else resolve({ wall: performance.now() - started, stdout })
    })
  })

const viaShell = async (guestDir: string): Promise<Sample> => {
  const { stdout, wall } = await exec("bash", [path.join(repo, "bench/qemu-shell.sh"), guestDir, project])
  const t: Record<string, number> = {}
  for (const m of stdout.matchAll(/^T (\S+) (\d+)$/gm)) t[m[1]!] = Number(m[2])
  const at = (k: string) => (t[k] === undefined ? undefined : t[k]! - t.start!)
  return {
    total: wall,
    guestReady: at("guest-ready"),
    sshReady: at("ssh"),
    lag: t["guest-ready"] === undefined ? undefined : t.ssh! - t["guest-ready"]
  }
}

const viaExample = async (): Promise<Sample> => {
  const { stdout, wall } = await exec(process.execPath, ["--import", "tsx", path.join(repo, "examples/qemu-test.ts")])
  if (!stdout.includes("run tests once: succeeded")) throw new Error(`the example did not succeed:\n${stdout}`)
  return { total: wall }
}

// ---- run ----------------------------------------------------------------------------------

const stats = (values: ReadonlyArray<number>) => {
  const sorted = [...values].sort((a, b) => a - b)
  return { median: sorted[Math.floor(sorted.length / 2)]!, min: sorted[0]!, max: sorted.at(-1)! }
}
const fmt = (values: ReadonlyArray<number | undefined>) => {
  const defined = values.filter((v): v is number => v !== undefined)
  if (defined.length === 0) return "—"
  const s = stats(defined)
  return s.min === s.max ? `${Math.round(s.median)}` : `${Math.round(s.median)} (${Math.round(s.min)}–${Math.round(s.max)})`
}

const main = async () => {
  const guest = await Effect.runPromise(TestGuest.build().pipe(Effect.provide(NodeContext.layer)))
  const samples: Record<"graph" | "example" | "shell", Array<Sample>> = { graph: [], example: [], shell: [] }
  const load: Array<number> = [os.loadavg()[0]!]
  const order = ["graph", "shell", "example"] as const
  for (let i = 0; i < runs; i++) {
    for (let k = 0; k < order.length; k++) {
      const variant = order[(i + k) % order.length]!
      const sample = variant === "graph"
        ? await Effect.runPromise(viaGraph)
        : variant === "shell"
        ? await viaShell(guest.dir)
        : await viaExample()
      samples[variant].push(sample)
      process.stderr.write(`run ${i + 1}/${runs} ${variant}: ${JSON.stringify(sample)}\n`)
    }
    load.push(os.loadavg()[0]!)
  }

  const rows: Array<[string, "graph" | "example" | "shell"]> = [
    ["graph (in process)", "graph"],
    ["example program (node + tsx start-up included)", "example"],
    ["shell script, ssh retry loop", "shell"]
  ]
  const table = [
    `QEMU cycle, ${runs} runs each, interleaved; ms, median (min–max); load average ${load.map((l) => l.toFixed(1)).join(" → ")}`,
    "",
    "| variant | whole cycle | GUEST-READY on serial | SSH usable | sshd's banner seen, after GUEST-READY | SSH usable, after GUEST-READY |",
    "|---|---|---|---|---|---|",
    ...rows.map(([label, key]) => {
      const s = samples[key]
      return `| ${label} | ${fmt(s.map((x) => x.total))} | ${fmt(s.map((x) => x.guestReady))} | ${fmt(s.map((x) => x.sshReady))} | ${fmt(s.map((x) => x.bannerLag))} | ${fmt(s.map((x) => x.lag))} |`
    })
  ].join("\n")
  console.log(table)

  fs.mkdirSync(path.join(repo, "bench/results"), { recursive: true })
  fs.writeFileSync(
    path.join(repo, "bench/results/qemu.json"),
    JSON.stringify({
      date: new Date().toISOString(),
      machine: { cpus: os.cpus().length, node: process.version, load },
      runs,
      samples,
      summary: Object.fromEntries(Object.entries(samples).map(([k, s]) => [k, {
        total: stats(s.map((x) => x.total)),
        ...(s.some((x) => x.lag !== undefined) ? { lag: stats(s.flatMap((x) => (x.lag === undefined ? [] : [x.lag]))) } : {}),
        ...(s.some((x) => x.bannerLag !== undefined)
          ? { bannerLag: stats(s.flatMap((x) => (x.bannerLag === undefined ? [] : [x.bannerLag]))) }
          : {})
      }]))
    }, null, 2) + "\n"
  )
}

main().catch((e) => {
  console.error(e)
  process.exit(1)
})
