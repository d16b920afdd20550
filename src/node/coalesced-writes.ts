import { Socket } from 'node:net'
import type { ConnectionEncrypter, MessageStream, SecuredConnection } from '@libp2p/interface'

/**
 * Wraps a connection encrypter (noise) so that each message a connection sends leaves its TCP
 * socket in one write, and its length prefixes are read without throwing. Without it every
 * noise message costs two writes (@libp2p/tcp writes noise's 2-byte length and the ciphertext
 * apart), and each yamux frame is its own noise message. A socket write is dear here: the kernel delivers to the receiver inside
 * it, waking its process (on the 2-vCPU VM of bench/deploy.ts a bridging node's one write per
 * call costs ~100-180 µs of its CPU). Corked for the length of one send(), a noise message
 * leaves in one writev. (Window updates, the other writes a call used to cost, are
 * src/protocols/call/lazy-window.ts.)
 *
 * The encrypter is handed the raw transport connection, which is where the socket is reachable
 * without patching libp2p. Connections without a net.Socket (memory transport, a private-network
 * protector in between) are left as they are.
 */
export function coalescedWrites<C, E extends ConnectionEncrypter> (factory: (components: C) => E): (components: C) => E {
  return (components) => {
    const encrypter = factory(components)
    const secureInbound = encrypter.secureInbound.bind(encrypter)
    const secureOutbound = encrypter.secureOutbound.bind(encrypter)
    encrypter.secureInbound = async (connection, options) => quietLengths(await secureInbound(corkPerSend(connection), options))
    encrypter.secureOutbound = async (connection, options) => quietLengths(await secureOutbound(corkPerSend(connection), options))
    return encrypter
  }
}

/**
 * Noise (17.x) reads its 2-byte length prefixes with a decoder that is called again after every
 * whole message and learns that the buffer is empty from a RangeError thrown at it: a new error,
 * i.e. a stack trace captured, for each batch of messages received (~3% of a bridging node's
 * CPU, profiled). This reader answers a length of 0 instead: with the 2 bytes of the prefix that
 * makes a message longer than what is buffered, which ends the decoder's loop the same way.
 * A connection of another shape is left as it is.
 */
export function quietLengths<T extends SecuredConnection> (secured: T): T {
  const decoder = (secured.connection as { decoder?: { lengthDecoder?: unknown, encodingLength?: unknown } }).decoder
  if (typeof decoder?.lengthDecoder === 'function' && typeof decoder.encodingLength === 'function' && decoder.encodingLength(0) === 2) {
    decoder.lengthDecoder = uint16BE
  }
  return secured
}

/** `data`: the decoder's buffer, a Uint8ArrayList */
function uint16BE (data: Uint8Array | { byteLength: number, get: (index: number) => number }): number {
  if (data.byteLength < 2) return 0
  return data instanceof Uint8Array ? (data[0] << 8) | data[1] : (data.get(0) << 8) | data.get(1)
}

/** Corks the connection's socket for each send: what one send() writes leaves in one writev. */
export function corkPerSend<S extends MessageStream> (connection: S): S {
  const socket = (connection as { socket?: unknown }).socket
  if (!(socket instanceof Socket)) return connection
  const send = connection.send.bind(connection)
  connection.send = (data) => {
    socket.cork()
    try {
      return send(data)
    } finally {
      // after end() or destroy() (a failed send) this is a no-op: they flush or drop what is corked
      socket.uncork()
    }
  }
  return connection
}
