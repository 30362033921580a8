/**
 * Which tag a "Service not found" defect names. Effect words that defect
 * itself (`Service not found: KEY (defined at …)`), so the pattern is checked
 * once at load time against a real one: when Effect words it differently,
 * `recognized` is false and `tagOf` finds nothing (the scheduler then leaves
 * the defect as it is instead of explaining it as an undeclared dependency).
 *
 * @internal
 */
import { Context } from "effect"

const pattern = /^Service not found: (.+?)(?: \(defined at .*\))?$/

const parse = (message: string): string | undefined => pattern.exec(message.split("\n")[0] ?? "")?.[1]

const probeKey = "effect-taskgraph/ServiceNotFoundProbe"

/** Whether this Effect's "Service not found" message has the shape `tagOf` reads (checked at load time). @internal */
export const recognized: boolean = (() => {
  try {
    // what yielding a tag the context lacks does: this throws the defect
    Context.unsafeGet(Context.empty(), Context.GenericTag<typeof probeKey, true>(probeKey))
    return false
  } catch (defect) {
    return defect instanceof Error && parse(defect.message) === probeKey
  }
})()

/** The key of the tag a "Service not found" defect names, if it is one. @internal */
export const tagOf = (defect: unknown): string | undefined =>
  recognized && defect instanceof Error ? parse(defect.message) : undefined
