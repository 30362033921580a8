/**
 * Loading a TypeScript module (a `.ts` graph file given to the CLI) from
 * compiled code: tsx is registered in this process the first time one is
 * imported, and only then, so `.js`/`.mjs` graphs never load a TypeScript
 * loader. tsx is an optional peer dependency: without it, a `.ts` file is
 * an error that says what to install.
 */
import { createRequire } from "node:module"

/** Files that need a TypeScript loader. */
export const isTypeScriptFile = (file: string): boolean => /\.(?:c|m)?tsx?$/.test(file)

const require = createRequire(import.meta.url)

/**
 * Whether `.ts` already loads in this process: under `tsx` or `node --import
 * tsx` (both register a `.ts` CommonJS extension, as does `register` below),
 * or on a Node that strips types itself.
 */
const typeScriptLoads = (): boolean => {
  // `typescript` is "strip" or "transform" on Node >= 22.10 when it strips types itself
  const stripping: unknown = Reflect.get(process.features, "typescript")
  return ".ts" in require.extensions || typeof stripping === "string"
}

/** The range of tsx this package is tested with, from its package.json. */
export const tsxRange = (): string => {
  try {
    const pkg = require("../../package.json") as { peerDependencies?: Record<string, string> }
    return pkg.peerDependencies?.["tsx"] ?? "^4"
  } catch {
    return "^4"
  }
}

let registered: Promise<void> | undefined

/**
 * Registers tsx (its ESM and CommonJS hooks) in this process, once; resolves
 * at once when TypeScript already loads. Rejects with an `Error` whose message
 * names the package and the range to install when tsx is missing.
 */
export const ensureTypeScript = (): Promise<void> => {
  if (typeScriptLoads()) return Promise.resolve()
  registered ??= Promise.all([import("tsx/esm/api"), import("tsx/cjs/api")]).then(
    ([esm, cjs]) => {
      esm.register()
      cjs.register()
    },
    (cause: unknown) => {
      registered = undefined
      throw new Error(
        `loading TypeScript needs the package "tsx" (${tsxRange()}), which is not installed: ` +
          `npm install -D tsx@"${tsxRange()}", or compile the file to .js`,
        { cause }
      )
    }
  )
  return registered
}
