import type { Connection, CreateListenerOptions, DialTransportOptions, Listener, MultiaddrConnection, Transport, Upgrader, UpgraderWithoutEncryptionOptions } from '@libp2p/interface'
import type { Multiaddr } from '@multiformats/multiaddr'

/**
 * A transport (the memory transport, in the simulator) whose connections hand what arrives to
 * the node in a later turn of the event loop, in arrival order, rather than in the sender's
 * own microtask queue.
 *
 * Why: @libp2p/memory delivers each chunk in a microtask. Among the hundreds of nodes of one
 * simulation thread, one gossip flood then runs hop after hop without ever leaving the
 * microtask queue: a profile at 300 nodes showed a single 12.3 s drain, during which no timer
 * of any node fired (calls timed out, samples came 16 s late). Its `latency` option does yield,
 * but waits once per chunk in turn, so a link carries one chunk per latency: at 1 ms a table
 * sync of hundreds of announcements took seconds and 300 nodes did not converge in 150 s.
 * Here a connection's chunks queue up and are delivered together from one setImmediate, so
 * each hop of a flood is a turn of the loop and timers run between turns.
 */
export function yielding<C, T extends Transport> (factory: (components: C) => T): (components: C) => T {
  return (components) => {
    const transport = factory(components)
    const dial = transport.dial.bind(transport)
    const createListener = transport.createListener.bind(transport)
    transport.dial = async (ma: Multiaddr, options: DialTransportOptions): Promise<Connection> =>
      await dial(ma, { ...options, upgrader: deferring(options.upgrader) })
    transport.createListener = (options: CreateListenerOptions): Listener =>
      createListener({ ...options, upgrader: deferring(options.upgrader) })
    return transport
  }
}

/** The upgrader, with every connection it upgrades made to deliver in later turns. */
function deferring (upgrader: Upgrader): Upgrader {
  return new Proxy(upgrader, {
    get (target, key) {
      if (key === 'upgradeInbound' || key === 'upgradeOutbound') {
        return async (maConn: MultiaddrConnection, opts: UpgraderWithoutEncryptionOptions) => await target[key](defer(maConn), opts)
      }
      const value = Reflect.get(target, key, target)
      return typeof value === 'function' ? value.bind(target) : value
    }
  })
}

interface Receiving {
  onData: (data: Uint8Array) => void
  onTransportClosed: (err?: Error) => void
}

/** Queues the connection's arrivals (data, then its end) and delivers them in one later turn. */
function defer (maConn: MultiaddrConnection): MultiaddrConnection {
  const conn = maConn as unknown as Receiving
  const onData = conn.onData.bind(conn)
  const onClosed = conn.onTransportClosed.bind(conn)
  let queue: Array<() => void> = []
  const flush = (): void => {
    const due = queue
    queue = []
    for (const deliver of due) deliver()
  }
  const enqueue = (deliver: () => void): void => {
    if (queue.push(deliver) === 1) setImmediate(flush)
  }
  conn.onData = (data) => { enqueue(() => { onData(data) }) }
  conn.onTransportClosed = (err) => { enqueue(() => { onClosed(err) }) }
  return maConn
}
