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
 * Waiting for TCP ports and banners, and picking free ports.
 *
 * @example
 * ```ts
 * import { Net } from "effect-taskgraph/qemu"
 *
 * const ssh = Net.waitForPort({ port: 2222, timeout: "30 seconds" })
 * ```
 *
 * @since 0.1.0
 * @category modules
 */
export * as Net from "./Net.js"
/**
 * Starting QEMU virtual machines bound to a scope.
 *
 * @example
 * ```ts
 * import { Qemu } from "effect-taskgraph/qemu"
 *
 * const vm = Qemu.start({ kernel: "bzImage", memory: 512, forwards: [{ name: "ssh", guest: 22 }] })
 * ```
 *
 * @since 0.1.0
 * @category modules
 */
export * as Qemu from "./Qemu.js"
/**
 * Disk images with `qemu-img`: information and throw-away overlays.
 *
 * @example
 * ```ts
 * import { QemuImg } from "effect-taskgraph/qemu"
 *
 * const overlay = QemuImg.overlay({ base: ".cache/guest/base.qcow2" })
 * ```
 *
 * @since 0.1.0
 * @category modules
 */
export * as QemuImg from "./QemuImg.js"
/**
 * Ready-made tasks for VM test runs: overlay, VM, port, SSH, rsync, tests.
 *
 * @example
 * ```ts
 * import { QemuTask } from "effect-taskgraph/qemu"
 *
 * const guest = QemuTask.testGuest("build test guest")
 * ```
 *
 * @since 0.1.0
 * @category modules
 */
export * as QemuTask from "./QemuTask.js"
/**
 * A client of QEMU's machine protocol (QMP): commands and events.
 *
 * @example
 * ```ts
 * import { Qmp } from "effect-taskgraph/qemu"
 *
 * declare const qmp: Qmp.QmpClient
 * const status = Qmp.queryStatus(qmp)
 * ```
 *
 * @since 0.1.0
 * @category modules
 */
export * as Qmp from "./Qmp.js"
/**
 * Copying files to and from a guest with rsync over SSH.
 *
 * @example
 * ```ts
 * import { Rsync, type Ssh } from "effect-taskgraph/qemu"
 *
 * declare const target: Ssh.Target
 * const push = Rsync.push(target, { source: "project/", destination: "/root/project" })
 * ```
 *
 * @since 0.1.0
 * @category modules
 */
export * as Rsync from "./Rsync.js"
/**
 * A VM's serial console: its lines as a stream, waiting for a line, typing into it.
 *
 * @example
 * ```ts
 * import { Serial } from "effect-taskgraph/qemu"
 *
 * declare const serial: Serial.SerialConsole
 * const login = Serial.waitForLine(serial, /login:/, "2 minutes")
 * ```
 *
 * @since 0.1.0
 * @category modules
 */
export * as Serial from "./Serial.js"
/**
 * SSH sessions to a guest with a pinned host key, and remote commands.
 *
 * @example
 * ```ts
 * import { Ssh } from "effect-taskgraph/qemu"
 *
 * declare const session: Ssh.Session
 * const exitCode = Ssh.exec(session, ["uname", "-a"])
 * ```
 *
 * @since 0.1.0
 * @category modules
 */
export * as Ssh from "./Ssh.js"
/**
 * The project's small test guest: building it, loading it, its VM options.
 *
 * @example
 * ```ts
 * import { TestGuest } from "effect-taskgraph/qemu"
 *
 * const guest = TestGuest.load(".cache/guest")
 * ```
 *
 * @since 0.1.0
 * @category modules
 */
export * as TestGuest from "./TestGuest.js"
