/**
 * `effect-taskgraph/qemu`: the QEMU toolkit. Each module is usable on its
 * own: disk overlays (`QemuImg`), the VM (`Qemu`), its machine protocol
 * (`Qmp`) and serial console (`Serial`), port and banner probes (`Net`), SSH
 * sessions (`Ssh`), file transfer (`Rsync`), and the project's test guest
 * (`TestGuest`), and ready-made graph tasks wiring them (`QemuTask`).
 *
 * @example
 * ```ts
 * import { Qemu, QemuImg, Rsync, Ssh, TestGuest } from "effect-taskgraph/qemu"
 * ```
 *
 * @since 0.1.0
 */

/**
 * @since 0.1.0
 * @category modules
 */
export * as Net from "./Net.js"
/**
 * @since 0.1.0
 * @category modules
 */
export * as Qemu from "./Qemu.js"
/**
 * @since 0.1.0
 * @category modules
 */
export * as QemuImg from "./QemuImg.js"
/**
 * @since 0.1.0
 * @category modules
 */
export * as QemuTask from "./QemuTask.js"
/**
 * @since 0.1.0
 * @category modules
 */
export * as Qmp from "./Qmp.js"
/**
 * @since 0.1.0
 * @category modules
 */
export * as Rsync from "./Rsync.js"
/**
 * @since 0.1.0
 * @category modules
 */
export * as Serial from "./Serial.js"
/**
 * @since 0.1.0
 * @category modules
 */
export * as Ssh from "./Ssh.js"
/**
 * @since 0.1.0
 * @category modules
 */
export * as TestGuest from "./TestGuest.js"
