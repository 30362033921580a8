/**
 * Everything the HTML report needs, as one module that `load.ts` loads on
 * first use.
 *
 * @internal
 */
export * as Data from "./data.js"
export * as File from "./file.js"
export * as Lines from "./lines.js"
export * as Render from "./render.js"
