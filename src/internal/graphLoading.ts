/**
 * While the command line imports a graph file, a `Main.runMain` at the
 * module's top level must not start a second run of the graph (the command
 * line runs the default export itself): `runMain` counts the call here and
 * returns, and the command line then says how to guard it. A global symbol,
 * so that a second copy of the package in the app counts too.
 *
 * @internal
 */
const key = Symbol.for("effect-taskgraph/graph-loading")

interface Loading {
  calls: number
}

const slot = globalThis as { [key]?: Loading | undefined }

/** The command line is about to import a graph file. */
export const begin = (): void => {
  slot[key] = { calls: 0 }
}

/** The import is over: how many times `Main.runMain` was called meanwhile. */
export const end = (): number => {
  const calls = slot[key]?.calls ?? 0
  slot[key] = undefined
  return calls
}

/** Called by `Main.runMain`: true (and counted) while a graph file is being imported. */
export const deferToCli = (): boolean => {
  const loading = slot[key]
  if (loading === undefined) return false
  loading.calls++
  return true
}
