import { readFile } from 'node:fs/promises'
import { basename } from 'node:path'
import { WasmeshError } from '../../errors.ts'
import { parseJson } from '../../validation.ts'
import { nodeUrl, requestJson } from './client.ts'
import type { Command } from 'commander'

/** Uploads may be large: allow more than the default answer time. */
const UPLOAD_TIMEOUT_MS = 120_000

interface FuncSig { params: string[], results: string[] }
interface ModuleJson {
  cid: string
  name: string | null
  size: number
  kind: string
  imports: Array<{ module: string, name: string, kind: string, signature?: FuncSig }>
  exports: Array<{ name: string, kind: string, signature?: FuncSig }>
  requires: string[]
  description: { functions: Record<string, { method: string, parameters: Array<{ name: string, type: string }>, result: unknown, mounts: Array<{ name: string, stage: string, mediaType: string }> }> } | null
}

interface NodeFlag { node?: string, json?: boolean }

/** a file the user named, or `bad-request` saying which and why */
export async function readInput (path: string, what: string): Promise<Buffer> {
  try {
    return await readFile(path)
  } catch (err) {
    throw new WasmeshError('bad-request', `${what} ${path}: ${(err as NodeJS.ErrnoException).code === 'ENOENT' ? 'no such file' : (err as Error).message}`)
  }
}

function signature (sig: FuncSig | undefined): string {
  return sig === undefined ? '' : `(${sig.params.join(', ')}) -> (${sig.results.join(', ')})`
}

/** Lines for `module ls`. Pure. */
export function formatModuleList (modules: ModuleJson[]): string {
  if (modules.length === 0) return 'no modules'
  const rows = [['CID', 'NAME', 'SIZE', 'KIND', 'REQUIRES'],
    ...modules.map(m => [m.cid, m.name ?? '-', String(m.size), m.kind, m.requires.join(',') || '-'])]
  const widths = rows[0].map((_, c) => Math.max(...rows.map(r => r[c].length)))
  return rows.map(r => r.map((cell, c) => cell.padEnd(widths[c])).join('  ').trimEnd()).join('\n')
}

/** Lines for `module show`. Pure. */
export function formatModule (m: ModuleJson): string {
  const out = [`cid       ${m.cid}`, `name      ${m.name ?? '-'}`, `size      ${m.size} bytes`, `kind      ${m.kind}`, `requires  ${m.requires.join(', ') || '-'}`, 'imports']
  for (const i of m.imports) out.push(`  ${i.module}.${i.name}  ${i.kind} ${signature(i.signature)}`.trimEnd())
  out.push('exports')
  for (const e of m.exports) out.push(`  ${e.name}  ${e.kind} ${signature(e.signature)}`.trimEnd())
  if (m.description !== null) {
    out.push('description')
    for (const [fn, d] of Object.entries(m.description.functions)) {
      out.push(`  ${d.method.toUpperCase()} ${fn}(${d.parameters.map(p => `${p.name}: ${p.type}`).join(', ')}) -> ${JSON.stringify(d.result)}`)
      for (const mount of d.mounts) out.push(`    mount ${mount.name} (${mount.stage}, ${mount.mediaType})`)
    }
  }
  return out.join('\n')
}

/** `--mount NAME=PATH`: a mount name and the file to send for it. */
export function parseMountFlag (value: string): { mount: string, path: string } {
  const eq = value.indexOf('=')
  if (eq <= 0 || eq === value.length - 1) throw new WasmeshError('bad-request', `--mount: "${value}" is not NAME=PATH`)
  return { mount: value.slice(0, eq), path: value.slice(eq + 1) }
}

function print (json: boolean | undefined, value: unknown, text: () => string): void {
  process.stdout.write((json === true ? JSON.stringify(value, null, 2) : text()) + '\n')
}

export function moduleCommand (program: Command): void {
  const module = program.command('module').description('store, list, show, describe and remove modules')
  const withNode = (cmd: Command): Command => cmd
    .option('--node <url>', 'node to ask (default $WASMESH_NODE, else http://127.0.0.1:8080)')
    .option('--json', 'machine-readable output')

  withNode(module.command('add')
    .description('store a module on the node; prints its CID')
    .argument('<file>', 'the .wasm file')
    .option('--name <name>', 'a name for it'))
    .action(async (file: string, opts: NodeFlag & { name?: string }) => {
      const bytes = await readInput(file, 'module')
      const query = opts.name !== undefined ? `?name=${encodeURIComponent(opts.name)}` : ''
      const added = await requestJson(nodeUrl(opts.node), `/modules${query}`, {
        method: 'POST', body: bytes, headers: { 'content-type': 'application/wasm' }, timeoutMs: UPLOAD_TIMEOUT_MS
      }) as ModuleJson
      print(opts.json, added, () => added.cid)
    })

  withNode(module.command('ls').description('the modules the node holds'))
    .action(async (opts: NodeFlag) => {
      const modules = await requestJson(nodeUrl(opts.node), '/modules') as ModuleJson[]
      print(opts.json, modules, () => formatModuleList(modules))
    })

  withNode(module.command('show')
    .description('imports, exports, required skills and description of a module (fetched from peers if need be)')
    .argument('<module>', 'CID or name'))
    .action(async (ref: string, opts: NodeFlag) => {
      const m = await requestJson(nodeUrl(opts.node), `/modules/${encodeURIComponent(ref)}`, { timeoutMs: UPLOAD_TIMEOUT_MS }) as ModuleJson
      print(opts.json, m, () => formatModule(m))
    })

  withNode(module.command('describe')
    .description('attach a description (functions JSON) and deployment-stage files to a module')
    .argument('<module>', 'CID or name')
    .requiredOption('--functions <file>', 'the description JSON (wasmesh or wasmiot shape)')
    .option('--mount <name=path>', 'a deployment-stage file, repeatable', (v: string, acc: string[]) => [...acc, v], [] as string[]))
    .action(async (ref: string, opts: NodeFlag & { functions: string, mount: string[] }) => {
      const functions = (await readInput(opts.functions, '--functions')).toString('utf8')
      parseJson(functions, `--functions ${opts.functions}`)
      const form = new FormData()
      form.append('functions', functions)
      for (const { mount, path } of opts.mount.map(parseMountFlag)) {
        form.append(mount, new Blob([await readInput(path, `--mount ${mount}`)]), basename(path))
      }
      const m = await requestJson(nodeUrl(opts.node), `/modules/${encodeURIComponent(ref)}/description`, {
        method: 'POST', body: form, timeoutMs: UPLOAD_TIMEOUT_MS
      }) as ModuleJson
      print(opts.json, m, () => formatModule(m))
    })

  withNode(module.command('rm')
    .description('remove a module from the node')
    .argument('<module>', 'CID or name'))
    .action(async (ref: string, opts: NodeFlag) => {
      const m = await requestJson(nodeUrl(opts.node), `/modules/${encodeURIComponent(ref)}`, { method: 'DELETE' }) as ModuleJson
      print(opts.json, m, () => `removed ${m.cid}`)
    })
}
