/**
 * One line of progress on stderr. On a terminal it is redrawn in place; in a CI log (not a TTY)
 * it is printed as plain lines, on a phase change or at most every `everyMs`, so the log stays short.
 */
export interface ProgressOptions {
  /** phases expected in the run, to show "phase 2/5"; 0: unknown */
  phases?: number
  /** least time between plain lines within one phase (not a TTY) */
  everyMs?: number
  /** clock, for tests */
  now?: () => number
}

const BAR = 20

export class Progress {
  private readonly out: Pick<NodeJS.WriteStream, 'write' | 'isTTY'>
  private readonly phases: number
  private readonly everyMs: number
  private readonly now: () => number
  private readonly started: number
  private current = ''
  private index = 0
  private lastLine = -Infinity
  /** what the terminal shows now ('' once closed): the same line is not written again (calls update it per call) */
  private shown = ''

  constructor (out: Pick<NodeJS.WriteStream, 'write' | 'isTTY'>, options: ProgressOptions = {}) {
    this.out = out
    this.phases = options.phases ?? 0
    this.everyMs = options.everyMs ?? 5000
    this.now = options.now ?? (() => performance.now())
    this.started = this.now()
  }

  /** Enter or update phase `name`; `fraction` (0..1) of it done, when known. */
  phase (name: string, fraction?: number): void {
    const changed = name !== this.current
    if (changed) { this.current = name; this.index++ }
    const line = this.line(fraction)
    if (this.out.isTTY === true) {
      if (line !== this.shown) this.out.write(`\r\x1b[2K${line}`)
      this.shown = line
    } else if (changed || this.now() - this.lastLine >= this.everyMs) {
      this.out.write(line + '\n')
      this.lastLine = this.now()
    }
  }

  /** Replaces the bar with a closing line, so what is printed next starts on its own. */
  done (): void {
    const line = `[${this.elapsed()}] done`
    this.out.write(this.out.isTTY === true && this.shown !== '' ? `\r\x1b[2K${line}\n` : `${line}\n`)
    this.shown = ''
  }

  private elapsed (): string {
    return `${((this.now() - this.started) / 1000).toFixed(0)} s`
  }

  private line (fraction?: number): string {
    const count = this.phases > 0 ? ` ${this.index}/${this.phases}` : ''
    const elapsed = this.elapsed()
    if (fraction === undefined) return `[${elapsed}] phase${count} ${this.current}`
    const f = Math.min(1, Math.max(0, fraction))
    const filled = Math.round(f * BAR)
    return `[${elapsed}] phase${count} ${this.current} [${'#'.repeat(filled)}${'.'.repeat(BAR - filled)}] ${Math.round(f * 100)} %`
  }
}
