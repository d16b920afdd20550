/** Polls `cond` until it holds; fails with `what` after `timeoutMs`. Returns the time it took. */
export async function waitFor (cond: () => boolean | Promise<boolean>, timeoutMs: number, what: string): Promise<number> {
  const start = Date.now()
  while (!(await cond())) {
    if (Date.now() - start > timeoutMs) throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}`)
    await new Promise(resolve => setTimeout(resolve, 10))
  }
  return Date.now() - start
}
