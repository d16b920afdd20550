/**
 * Collects the answers of a bid round: all of them, or those in by `graceMs` after the
 * `enough`-th bid (a step's replicas), whichever comes sooner. Bidders already connected answer
 * in a millisecond; one being dialled first, or on a busy device, may take seconds (each ask has
 * its own timeouts), and must not hold up a round others answered. With fewer bids than
 * `enough`, the round waits for all. Late answers are ignored (a bid reserves nothing).
 * `undefined` answers (refusals, failures) count as answered.
 */
export async function collectBids<T> (asks: ReadonlyArray<Promise<T | undefined>>, graceMs: number, enough: number): Promise<T[]> {
  const bids: T[] = []
  return await new Promise<T[]>((resolve) => {
    let left = asks.length
    let grace: NodeJS.Timeout | undefined
    const close = (): void => {
      clearTimeout(grace)
      resolve([...bids])
    }
    if (left === 0) { close(); return }
    for (const ask of asks) {
      ask.then((bid) => {
        if (bid === undefined) return
        bids.push(bid)
        if (bids.length >= enough) grace ??= setTimeout(close, graceMs)
      }, () => {}).finally(() => { if (--left === 0) close() })
    }
  })
}
