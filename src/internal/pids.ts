/**
 * Whether a process exists, for files that record their owner's pid (QEMU
 * run directories, a sqlite store's lock): an owner that is gone left them
 * behind (SIGKILL), and the next process may take them over.
 *
 * @internal
 */

/** Whether a process with this pid exists (EPERM: it exists, owned by another user). @internal */
export const isAlive = (pid: number): boolean => {
  try {
    process.kill(pid, 0)
    return true
  } catch (error) {
    return (error as NodeJS.ErrnoException).code === "EPERM"
  }
}
