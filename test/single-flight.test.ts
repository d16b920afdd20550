import { setImmediate as tick } from 'node:timers/promises'
import { expect } from 'chai'
import { SingleFlight } from '../src/single-flight.ts'

/** a task that counts its runs and finishes when released */
function gated (): { runs: () => number, release: () => void, task: () => Promise<void> } {
  let runs = 0
  let release: () => void = () => {}
  return {
    runs: () => runs,
    release: () => { release() },
    task: async () => { runs++; await new Promise<void>(resolve => { release = resolve }) }
  }
}

describe('SingleFlight', () => {
  it('coalesces a burst of calls during a run into one more run', async () => {
    const g = gated()
    const flight = new SingleFlight(g.task)
    const calls = Array.from({ length: 10 }, async () => { await flight.run() })
    await tick()
    expect(g.runs()).to.equal(1)
    g.release()
    await tick()
    expect(g.runs()).to.equal(2)
    g.release()
    await Promise.all(calls)
    expect(g.runs()).to.equal(2)
    const again = flight.run() // idle again: a new call runs at once
    expect(g.runs()).to.equal(3)
    g.release()
    await again
  })

  it('never drops a call made as a run finishes, whatever the microtask hop', async () => {
    for (let hops = 0; hops < 8; hops++) {
      const g = gated()
      const flight = new SingleFlight(g.task)
      const first = flight.run()
      await tick()
      g.release()
      for (let i = 0; i < hops; i++) await Promise.resolve()
      const second = flight.run()
      await tick()
      g.release()
      await Promise.all([first, second])
      expect(g.runs(), `a call ${hops} hops after the run's end`).to.equal(2)
    }
  })

  it('skips the coalesced run when its owner no longer wants it', async () => {
    const g = gated()
    let wanted = true
    const flight = new SingleFlight(g.task, () => wanted)
    const first = flight.run()
    const second = flight.run()
    await tick()
    wanted = false
    g.release()
    await Promise.all([first, second])
    expect(g.runs()).to.equal(1)
  })

  it('rejects the callers of a failed run, settles quietly, and runs again afterwards', async () => {
    let fail = true
    const flight = new SingleFlight(async () => { if (fail) throw new Error('boom') })
    const err = await flight.run().then(() => undefined, (e: Error) => e)
    expect(err?.message).to.equal('boom')
    await flight.settled()
    fail = false
    await flight.run()
  })
})
