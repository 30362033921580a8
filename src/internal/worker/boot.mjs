// Boots a worker thread whose entry is TypeScript.
//
// On Node 20, tsx's loader (`node --import tsx`, the `tsx` CLI) does not reach
// worker threads, so a `.ts` entry fails with `Unknown file extension ".ts"`.
// This file is plain ESM: it registers tsx inside the thread, then imports the
// real entry. It is used only when the entry ends in .ts/.mts/.cts; compiled
// `.js` entries are started directly.
import { workerData } from "node:worker_threads"

const entry = workerData?.["effect-taskgraph/worker-entry"]
if (typeof entry !== "string") {
  throw new Error("effect-taskgraph worker bootstrap: no entry given (start it through WorkerPool.make)")
}
let register
try {
  ;({ register } = await import("tsx/esm/api"))
} catch (cause) {
  throw new Error(
    `cannot run the TypeScript worker entry ${entry}: the package "tsx" could not be loaded ` +
      `(install tsx, or point WorkerPool.make at the compiled .js file)`,
    { cause }
  )
}
register()
await import(entry)
