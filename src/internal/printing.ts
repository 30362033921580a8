/**
 * How our plain data objects print, like Effect's own data types (`Inspectable`).
 *
 * A report or a plan computes its larger fields on first access (getters),
 * which `console.log` shows as `[Getter]`. These non-enumerable methods make
 * `console.log` show every field and `String(x)` the JSON of the fields;
 * `JSON.stringify`, spreading and `toEqual` see the same fields as before.
 *
 * @internal
 */
import { Inspectable } from "effect"

const printing: PropertyDescriptorMap = {
  [Inspectable.NodeInspectSymbol]: {
    value(this: object) {
      return { ...this }
    }
  },
  toString: {
    value(this: object) {
      return Inspectable.format({ ...this })
    }
  }
}

/** `fields`, printing as its fields (see above). @internal */
export const printsAsFields = <A extends object>(fields: A): A => Object.defineProperties(fields, printing)
