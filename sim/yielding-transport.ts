import type { Connection, CreateListenerOptions, DialTransportOptions, Listener, MultiaddrConnection, Transport, Upgrader, UpgraderWithoutEncryptionOptions } from '@libp2p/interface'
import type { AbstractMultiaddrConnection } from '@libp2p/utils'
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

/** Each upgrader's deferring stand-in, made once: a node's transport is handed the same upgrader on every dial. */
const deferringOf = new WeakMap<Upgrader, Upgrader>()

/** The upgrader, with every connection it upgrades made to deliver in later turns. */
function deferring (upgrader: Upgrader): Upgrader {
  let proxy = deferringOf.get(upgrader)
  if (proxy === undefined) {
    proxy = new Proxy(upgrader, {
      get (target, key) {
        if (key === 'upgradeInbound' || key === 'upgradeOutbound') {
          return async (maConn: MultiaddrConnection, opts: UpgraderWithoutEncryptionOptions) => await target[key](defer(maConn), opts)
        }
        const value = Reflect.get(target, key, target)
        return typeof value === 'function' ? value.bind(target) : value
      }
    })
    deferringOf.set(upgrader, proxy)
  }
  return proxy
}

/** What a connection hands up: a Uint8Array or (the memory transport's) a Uint8ArrayList. */
type Chunk = Parameters<AbstractMultiaddrConnection['onData']>[0]

type Receiving = Pick<AbstractMultiaddrConnection, 'onData' | 'onTransportClosed'>

/** The connection's end, queued behind the data that came before it. */
class Closed {
  readonly err?: Error
  constructor (err?: Error) { this.err = err }
}

/** Queues the connection's arrivals (data, then its end) and delivers them in one later turn. */
function defer (maConn: MultiaddrConnection): MultiaddrConnection {
  const conn = maConn as unknown as Receiving
  const onData = conn.onData.bind(conn)
  const onClosed = conn.onTransportClosed.bind(conn)
  let queue: Array<Chunk | Closed> = []
  const flush = (): void => {
    const due = queue
    queue = []
    for (const item of due) {
      if (item instanceof Closed) onClosed(item.err)
      else onData(item)
    }
  }
  const enqueue = (item: Chunk | Closed): void => {
    if (queue.push(item) === 1) setImmediate(flush)
  }
  conn.onData = enqueue
  conn.onTransportClosed = (err) => { enqueue(new Closed(err)) }
  return maConn
}
