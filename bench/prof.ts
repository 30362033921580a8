import { Effect } from "effect"
import { TaskGraph } from "effect-taskgraph"
import { workload } from "./workloads.js"
import { buildTaskGraph } from "./runners.js"
const n = Number(process.argv[2] ?? 10000)
const spans = process.argv[3] !== "nospans"
const shape = (process.argv[4] ?? "chain") as "chain"
const g = buildTaskGraph(workload(shape, n), { kind: "noop" })
for (let k = 0; k < 5; k++) {
  const t0 = performance.now(); await Effect.runPromise(TaskGraph.run(g, { spans })); const t = performance.now() - t0
  console.log(shape, spans, (t * 1000 / n).toFixed(2), "us/task")
}
