import { Command, CommanderError } from 'commander'
import { isWasmeshError } from '../../errors.ts'
import { callCommand } from './call-command.ts'
import { deployCommand } from './deploy-command.ts'
import { moduleCommand } from './module-command.ts'
import { peersCommand } from './peers-command.ts'
import { runCommand } from './run-command.ts'
import { simCommand } from './sim-command.ts'
import { startCommand } from './start-command.ts'

/** Exit codes: 0 done, 1 failed, 2 bad usage or bad input (flags, files). */
export const EXIT = { ok: 0, failed: 1, usage: 2 } as const

export function buildProgram (): Command {
  const program = new Command('wasmesh')
    .description('a peer-to-peer mesh for WebAssembly microservices on edge and IoT devices')
    .exitOverride()
    .showHelpAfterError('(add --help for usage)')
    .configureOutput({ writeErr: (s) => process.stderr.write(s) })
    .enablePositionalOptions()
  startCommand(program)
  peersCommand(program)
  moduleCommand(program)
  runCommand(program)
  deployCommand(program)
  callCommand(program)
  simCommand(program)
  for (const cmd of program.commands) {
    cmd.exitOverride()
    for (const sub of cmd.commands) sub.exitOverride()
  }
  return program
}

export async function main (argv: string[]): Promise<number> {
  const program = buildProgram()
  try {
    await program.parseAsync(argv, { from: 'user' })
    return EXIT.ok
  } catch (err) {
    if (err instanceof CommanderError) {
      // Commander has already printed its message (or the help).
      return err.exitCode === 0 ? EXIT.ok : EXIT.usage
    }
    if (isWasmeshError(err)) {
      process.stderr.write(`wasmesh: ${err.message}\n`)
      return err.code === 'bad-request' ? EXIT.usage : EXIT.failed
    }
    process.stderr.write(`wasmesh: ${(err as Error).stack ?? String(err)}\n`)
    return EXIT.failed
  }
}
