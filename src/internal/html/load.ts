/**
 * The HTML report's code is loaded on first use (`Reporter.html`,
 * `TaskGraph.toHtml`), so a run without an HTML report never loads it:
 * measured ~20 ms of start-up, a third of what the core entry adds to
 * `import "effect"`.
 *
 * @internal
 */
import { Effect } from "effect"

/** @internal */
export type Html = typeof import("./module.js")

/** @internal */
export const load: Effect.Effect<Html, Error> = Effect.tryPromise({
  try: () => import("./module.js"),
  catch: (error) => (error instanceof Error ? error : new Error(String(error)))
})
