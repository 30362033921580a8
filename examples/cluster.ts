/**
 * A graph run across processes: a PostgreSQL-backed cluster of 3 local
 * runner processes runs a graph of 46 tasks; half-way one runner is
 * SIGKILLed, its shards move to the two others (~5 s with the tuned sharding
 * settings), the tasks it was running run again there, and nothing that had
 * succeeded runs again. At the end: which runner ran what.
 *
 *   npx tsx examples/cluster.ts                          # a private PostgreSQL (scripts/ensure-postgres.sh)
 *   npx tsx examples/cluster.ts --store postgres://me@db:5432/taskgraph
 *
 * The same by hand, with the command line (one `runner` per machine):
 *
 *   npx effect-taskgraph runner examples/cluster.ts --store postgres://… --listen 10.0.0.5:7001
 *   npx effect-taskgraph run examples/cluster.ts --store postgres://… --run-id nightly-1 --remote
 *
 * This one file is the orchestrator (no option), a runner (`--runner
 * HOST:PORT`) and the submitter (`--submit RUN_ID`).
 */
import { type ChildProcess, spawn } from "node:child_process"
import * as fs from "node:fs"
import * as net from "node:net"
import * as os from "node:os"
import * as path from "node:path"
import { fileURLToPath } from "node:url"
import { parseArgs } from "node:util"
import { Context, Effect, Schema } from "effect"
import { Task, TaskGraph } from "effect-taskgraph"
import { Durable } from "effect-taskgraph/durable"
import { Main } from "effect-taskgraph/node"

const { values: args } = parseArgs({
  // when `effect-taskgraph run|runner examples/cluster.ts` imports it, the arguments are the CLI's
  args: Main.isMain(import.meta.url) ? process.argv.slice(2) : [],
  options: {
    store: { type: "string" },
    runner: { type: "string" },
    submit: { type: "string" },
    out: { type: "string", default: path.join(os.tmpdir(), "taskgraph-cluster-example") }
  }
})
const out = path.resolve(process.env.CLUSTER_EXAMPLE_OUT ?? args.out)

// ---- the graph: 5 fetches, 40 tests (each needs one fetch), a summary ----------------

/** While a task runs on a runner, `running/NAME.PID` says so (the orchestrator picks its victim by it). */
const running = <A, R>(name: string, work: Effect.Effect<A, never, R>) =>
  Effect.acquireUseRelease(
    Effect.sync(() => {
      const marker = path.join(out, "running", `${name}.${process.pid}`)
      fs.mkdirSync(path.dirname(marker), { recursive: true })
      fs.writeFileSync(marker, "")
      return marker
    }),
    () => work,
    (marker) => Effect.sync(() => fs.rmSync(marker, { force: true }))
  )

const fetches = [0, 1, 2, 3, 4].map((k) => {
  const tag = Context.GenericTag<string>(`Checkout${k}`)
  const task = Task.make(`fetch ${k}`, {
    provides: tag,
    schema: Schema.String,
    run: running(`fetch ${k}`, Effect.as(Effect.sleep("200 millis"), `rev-${k}`))
  })
  return { tag, task }
})
const tests = Array.from({ length: 40 }, (_, i) => {
  const tag = Context.GenericTag<number>(`Passed${i}`)
  const fetch = fetches[i % fetches.length]!
  const task = Task.make(`test ${String(i).padStart(2, "0")}`, {
    requires: [fetch.tag],
    provides: tag,
    schema: Schema.Number,
    run: running(
      `test ${i}`,
      Effect.flatMap(fetch.tag, (rev) =>
        Effect.zipRight(Effect.sleep("600 millis"), Effect.as(Task.output(`tested ${rev} on pid ${process.pid}`), 1)))
    )
  })
  return { tag, task }
})
const summary = Task.make("summary", {
  requires: tests.map((t) => t.tag),
  run: Effect.flatMap(Effect.all(tests.map((t) => t.tag)), (passed) =>
    Task.output(`${passed.reduce((a, b) => a + b, 0)} of ${tests.length} test shards passed`))
})

const graph = TaskGraph.make("cluster demo", [...fetches.map((f) => f.task), ...tests.map((t) => t.task), summary])
export default graph

// ---- the three roles ---------------------------------------------------------------------

const self = fileURLToPath(import.meta.url)
const node = (role: ReadonlyArray<string>, store: string) =>
  spawn(process.execPath, ["--import", "tsx", self, "--store", store, "--out", out, ...role], {
    stdio: ["ignore", "pipe", "pipe"],
    env: { ...process.env, CI: "true" }
  })

/** `count` distinct free ports: all held open until each is chosen, so none is handed out twice. */
const freePorts = async (count: number) => {
  const servers = await Promise.all(Array.from({ length: count }, () =>
    new Promise<net.Server>((resolve, reject) => {
      const server = net.createServer()
      server.once("error", reject)
      server.listen(0, "127.0.0.1", () => resolve(server))
    })))
  const ports = servers.map((server) => (server.address() as net.AddressInfo).port)
  await Promise.all(servers.map((server) => new Promise((resolve) => server.close(resolve))))
  return ports
}

/** Resolves with the child's output so far once `test` holds for it. */
const waitFor = (child: ChildProcess, test: (output: string) => boolean) =>
  new Promise<string>((resolve, reject) => {
    let output = ""
    const onData = (chunk: Buffer) => {
      output += String(chunk)
      if (test(output)) resolve(output)
    }
    child.stdout!.on("data", onData)
    child.stderr!.on("data", onData)
    child.on("close", () => reject(new Error(`a child process exited early:\n${output}`)))
  })

const orchestrate = async () => {
  fs.rmSync(out, { recursive: true, force: true })
  fs.mkdirSync(out, { recursive: true })
  const children: Array<ChildProcess> = []
  // a private server unless one is given: the test suite's helper (own data directory, 127.0.0.1, a free port)
  const pg = args.store === undefined ? await (await import("../test/helpers/postgres.js")).startPostgres() : undefined
  const store = args.store ?? pg!.url
  try {
    const startRunner = async (port: number): Promise<{ listen: string; child: ChildProcess }> => {
      const listen = `127.0.0.1:${port}`
      const child = node(["--runner", listen], store)
      children.push(child)
      try {
        await waitFor(child, (o) => o.includes(" ready on "))
      } catch (error) {
        // another process took the port between our choosing it and the runner binding it
        if (String(error).includes("start the runner with another --listen")) return startRunner((await freePorts(1))[0]!)
        throw error
      }
      return { listen, child }
    }
    const runners = await Promise.all((await freePorts(3)).map(startRunner))
    console.log(`cluster of 3 runners on ${store}: ${runners.map((r) => `${r.listen} (pid ${r.child.pid})`).join(", ")}`)

    const submitter = node(["--submit", `demo-${Date.now()}`], store)
    children.push(submitter)
    let log = ""
    submitter.stdout!.on("data", (c) => (log += String(c)))
    submitter.stderr!.on("data", (c) => (log += String(c)))
    const exited = new Promise<number | null>((resolve) => submitter.on("close", resolve))

    // half-way: half the tests done; the victim is a runner with a task running right now
    await waitFor(submitter, (o) => (o.match(/^\[test \d+\] -- ready/gm)?.length ?? 0) >= tests.length / 2)
    const busy = fs.readdirSync(path.join(out, "running")).map((f) => Number(f.split(".").pop()))
    const victim = runners.find((r) => busy.includes(r.child.pid!)) ?? runners[0]!
    victim.child.kill("SIGKILL")
    const t0 = Date.now()
    console.log(`half-way: SIGKILLed runner ${victim.listen} (pid ${victim.child.pid})`)

    const code = await exited
    console.log(`the run ended ${Date.now() - t0} ms after the SIGKILL`)
    const ranOn = new Map<string, Array<string>>()
    for (const [, task, runner] of log.matchAll(/^\[([^\]]+)\] ran on runner (.+)$/gm)) {
      ranOn.set(runner!, [...(ranOn.get(runner!) ?? []), task!])
    }
    console.log("\nwhich runner ran what:")
    for (const [runner, tasks] of ranOn) console.log(`  ${runner}: ${tasks.length} ${tasks.length === 1 ? "task" : "tasks"}: ${tasks.join(", ")}`)
    for (const [, task, why] of log.matchAll(/^\[([^\]]+)\] ran again: (.*)$/gm)) console.log(`  ${task} ran again: ${why}`)
    console.log(log.match(/^== cluster demo: (succeeded|failed).*$/m)?.[0] ?? log)
    return code ?? 1
  } finally {
    for (const child of children) child.kill("SIGKILL")
    await pg?.stop()
  }
}

if (Main.isMain(import.meta.url)) {
  if (args.runner !== undefined) Durable.runnerMain([graph], { store: args.store!, listen: args.runner })
  else if (args.submit !== undefined) {
    Durable.runRemoteMain(graph, { runId: args.submit, store: args.store!, concurrency: 6, reporter: "plain" })
  } else orchestrate().then((code) => process.exit(code), (error) => {
    console.error(error)
    process.exit(1)
  })
}
