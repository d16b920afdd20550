/**
 * Network-namespace "LAN" helper for tests and benchmarks.
 *
 * Builds several Linux "hosts" on one machine out of network namespaces:
 *
 *   ${prefix}-sw            switch namespace, holds bridge `br0` (STP off,
 *                           forward_delay 0, multicast snooping off, no IP)
 *   ${prefix}-h1 .. -hN     host namespaces, each with `lo` up and `eth0`
 *                           (one end of a veth pair; the other end is `hN`
 *                           inside the switch namespace, enslaved to br0)
 *
 * Address plan: every LAN gets its own /24, 10.213.X.0/24, where
 * X = 1 + (FNV-1a-32(prefix) mod 254), so X is in 1..254 and is stable for a
 * given prefix. Host i (1-based) is 10.213.X.i. The switch has no address.
 * Each host has the connected /24 route plus `224.0.0.0/4 dev eth0` (without a
 * route for multicast, sends to 224.0.0.251 fail with ENETUNREACH, since there
 * is deliberately no default route). Traffic to anything outside the /24 fails
 * fast with ENETUNREACH, which keeps tests off the real network.
 *
 * Interface names live inside their namespaces (the veth pair is created
 * directly in the switch/host namespaces), so they never collide with the
 * root namespace or other LANs and are always short (`eth0`, `br0`, `h<i>`).
 *
 * Note: `ip netns exec` only switches the network namespace (and /sys); the
 * hostname (UTS namespace), filesystem and PIDs are shared, so
 * `os.hostname()` is the same in every host: pass identities explicitly.
 *
 * Processes started inside a namespace keep it (and its veths) alive after
 * `ip netns del`, so destroy() first SIGKILLs every process inside the LAN's
 * namespaces (found with `ip netns pids`, i.e. only processes in *our*
 * namespaces), then deletes the namespaces by name.
 *
 * Requires root and iproute2 (`ip`). Use netnsUnavailableReason() to skip.
 */
import { execFile, execFileSync, spawn } from 'node:child_process';
import type { ChildProcess, SpawnOptions } from 'node:child_process';

const IP_TIMEOUT_MS = 10_000;

export interface LanHost {
  /** network namespace name, e.g. `wmtest-h1` */
  ns: string;
  /** IPv4 address of the host on the LAN, e.g. `10.213.57.1` */
  ip: string;
  /** interface name inside the namespace (always `eth0`) */
  iface: string;
}

export interface RunResult {
  /** exit code, null if killed by a signal (e.g. on timeout) */
  code: number | null;
  signal: NodeJS.Signals | null;
  stdout: string;
  stderr: string;
  /** true if the timeout fired and the child (process group) was killed */
  timedOut: boolean;
}

export interface Lan {
  prefix: string;
  /** the switch namespace (`${prefix}-sw`) */
  switchNs: string;
  /** e.g. `10.213.57.0/24` */
  subnet: string;
  /** hosts[0] is `${prefix}-h1`; hostIndex arguments below are 0-based indexes into this array */
  hosts: LanHost[];
  /** spawn `ip netns exec <ns> ...argv`; stdio defaults to 'pipe'. */
  exec(hostIndex: number, argv: string[], opts?: SpawnOptions): ChildProcess;
  /** run to completion, collecting output; kills the child's process group after timeoutMs. */
  run(hostIndex: number, argv: string[], timeoutMs: number, opts?: SpawnOptions): Promise<RunResult>;
  /** kill processes inside the LAN and delete all its namespaces by name. Idempotent, never throws. */
  destroy(): Promise<void>;
}

export interface CreateLanOptions {
  /** namespace name prefix; [A-Za-z0-9][A-Za-z0-9_.-]*, at most 64 chars */
  prefix: string;
  /** number of hosts, 1..253 */
  hosts: number;
}

export class IpCommandError extends Error {
  cmd: string;
  stderr: string;
  exitCode: number | string | null;
  constructor(cmd: string, stderr: string, exitCode: number | string | null, cause?: unknown) {
    super(`command failed: ${cmd} (exit ${exitCode ?? '?'})${stderr.trim() ? `: ${stderr.trim()}` : ''}`, { cause });
    this.name = 'IpCommandError';
    this.cmd = cmd;
    this.stderr = stderr;
    this.exitCode = exitCode;
  }
}

function fmtCmd(file: string, args: readonly string[]): string {
  return [file, ...args].map((a) => (/^[\w@%+=:,./-]+$/.test(a) ? a : JSON.stringify(a))).join(' ');
}

/** Run `ip ...args` (execFile, with timeout). Resolves to stdout; rejects with IpCommandError. */
export function ip(args: string[], timeoutMs = IP_TIMEOUT_MS): Promise<string> {
  return new Promise((resolve, reject) => {
    execFile('ip', args, { timeout: timeoutMs, killSignal: 'SIGKILL', encoding: 'utf8' }, (err, stdout, stderr) => {
      if (err) {
        const e = err as NodeJS.ErrnoException & { killed?: boolean; code?: number | string | null };
        const why = e.killed ? `${stderr}\n(timed out after ${timeoutMs} ms)` : stderr || e.message;
        reject(new IpCommandError(fmtCmd('ip', args), why, e.code ?? null, err));
        return;
      }
      resolve(stdout);
    });
  });
}

function ipSync(args: string[], timeoutMs = IP_TIMEOUT_MS): string {
  try {
    return execFileSync('ip', args, { timeout: timeoutMs, killSignal: 'SIGKILL', encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'] });
  } catch (err) {
    const e = err as NodeJS.ErrnoException & { stderr?: string; status?: number | null };
    throw new IpCommandError(fmtCmd('ip', args), String(e.stderr ?? '') || e.message, e.status ?? e.code ?? null, err);
  }
}

// ---------------------------------------------------------------------------
// availability

let cachedReason: string | null | undefined;

/** null if netns LANs can be created here (root, `ip` on PATH, `ip netns add` + bridge + veth work); else why not. */
export function netnsUnavailableReason(): string | null {
  if (cachedReason !== undefined) return cachedReason;
  cachedReason = computeUnavailableReason();
  return cachedReason;
}

function computeUnavailableReason(): string | null {
  if (process.platform !== 'linux') return `network namespaces need Linux (platform is ${process.platform})`;
  if (typeof process.getuid !== 'function' || process.getuid() !== 0) {
    return `network namespaces need root (uid is ${process.getuid?.() ?? 'unknown'})`;
  }
  try {
    execFileSync('ip', ['-V'], { timeout: 5000, stdio: 'ignore' });
  } catch (err) {
    return `\`ip\` (iproute2) not usable: ${(err as Error).message}`;
  }
  const probe = `wmprobe-${process.pid}`;
  try {
    try {
      ipSync(['netns', 'del', probe], 5000);
    } catch {
      /* not there: fine */
    }
    ipSync(['netns', 'add', probe], 5000);
    ipSync(['-n', probe, 'link', 'add', 'br0', 'type', 'bridge'], 5000);
    ipSync(['-n', probe, 'link', 'add', 'v0', 'type', 'veth', 'peer', 'name', 'v1'], 5000);
    return null;
  } catch (err) {
    return `cannot create network namespaces/bridges/veths: ${(err as Error).message}`;
  } finally {
    try {
      ipSync(['netns', 'del', probe], 5000);
    } catch {
      /* ignore */
    }
  }
}

// ---------------------------------------------------------------------------
// naming / addressing

const PREFIX_RE = /^[A-Za-z0-9][A-Za-z0-9_.-]{0,63}$/;
const HOST_IFACE = 'eth0';
const BRIDGE = 'br0';

function checkPrefix(prefix: string): void {
  if (!PREFIX_RE.test(prefix)) throw new Error(`invalid netns LAN prefix ${JSON.stringify(prefix)} (want ${PREFIX_RE})`);
}

/** Third octet of the LAN's 10.213.X.0/24, in 1..254, derived from the prefix (FNV-1a). */
export function lanSubnetOctet(prefix: string): number {
  let h = 0x811c9dc5;
  for (const b of Buffer.from(prefix, 'utf8')) {
    h ^= b;
    h = Math.imul(h, 0x01000193) >>> 0;
  }
  return 1 + (h % 254);
}

function escapeRe(s: string): string {
  return s.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
}

function isLanNsName(prefix: string, name: string): boolean {
  return new RegExp(`^${escapeRe(prefix)}-(sw|h[0-9]+)$`).test(name);
}

function parseNetnsList(out: string): string[] {
  // lines look like "name" or "name (id: 3)"
  return out
    .split('\n')
    .map((l) => l.trim().split(/\s+/)[0] ?? '')
    .filter((n) => n.length > 0);
}

// ---------------------------------------------------------------------------
// destruction

function parsePids(out: string): number[] {
  return out
    .split(/\s+/)
    .map((s) => Number.parseInt(s, 10))
    .filter((n) => Number.isInteger(n) && n > 0 && n !== process.pid);
}

function killPids(pids: number[]): void {
  for (const pid of pids) {
    try {
      process.kill(pid, 'SIGKILL');
    } catch {
      /* already gone */
    }
  }
}

async function destroyNamespaces(names: string[]): Promise<void> {
  // Kill everything still running inside them first: a process keeps its
  // network namespace (and the veths in it) alive after `ip netns del`.
  for (let round = 0; round < 3; round++) {
    const all: number[] = [];
    await Promise.all(
      names.map(async (n) => {
        try {
          all.push(...parsePids(await ip(['netns', 'pids', n], 5000)));
        } catch {
          /* namespace gone or unreadable */
        }
      }),
    );
    if (all.length === 0) break;
    killPids(all);
    await new Promise((r) => setTimeout(r, 20));
  }
  for (const n of names) {
    try {
      await ip(['netns', 'del', n]);
    } catch {
      /* already gone (or will be reported by a later listing) */
    }
  }
}

/** Kill processes in, and delete, every namespace named `${prefix}-sw` / `${prefix}-h<N>`. Never throws. */
export async function destroyLanByPrefix(prefix: string): Promise<void> {
  try {
    checkPrefix(prefix);
    const names = parseNetnsList(await ip(['netns', 'list'])).filter((n) => isLanNsName(prefix, n));
    if (names.length > 0) await destroyNamespaces(names);
  } catch {
    /* never throws */
  }
}

/** Synchronous variant of destroyLanByPrefix, usable from process.on('exit'). Never throws. */
export function destroyLanByPrefixSync(prefix: string): void {
  try {
    checkPrefix(prefix);
    const names = parseNetnsList(ipSync(['netns', 'list'])).filter((n) => isLanNsName(prefix, n));
    for (const n of names) {
      try {
        killPids(parsePids(ipSync(['netns', 'pids', n], 5000)));
      } catch {
        /* ignore */
      }
    }
    for (const n of names) {
      try {
        ipSync(['netns', 'del', n]);
      } catch {
        /* ignore */
      }
    }
  } catch {
    /* never throws */
  }
}

// ---------------------------------------------------------------------------
// creation

/** Prefixes of LANs created and not yet destroyed; cleaned up synchronously on process exit. */
const activePrefixes = new Set<string>();
let exitHookInstalled = false;

function registerExitCleanup(prefix: string): void {
  activePrefixes.add(prefix);
  if (exitHookInstalled) return;
  exitHookInstalled = true;
  process.on('exit', () => {
    for (const p of activePrefixes) destroyLanByPrefixSync(p);
    activePrefixes.clear();
  });
}

/**
 * Create a LAN of `hosts` namespaces bridged by a switch namespace. Any
 * leftover namespaces with this prefix (from a crashed run) are removed
 * first. On failure everything created so far is removed and the error
 * (an IpCommandError naming the command and its stderr) is rethrown.
 *
 * A process 'exit' hook (synchronous cleanup) is registered until destroy().
 */
export async function createLan(opts: CreateLanOptions): Promise<Lan> {
  const { prefix, hosts: n } = opts;
  checkPrefix(prefix);
  if (!Number.isInteger(n) || n < 1 || n > 253) throw new RangeError(`hosts must be an integer in 1..253, got ${n}`);
  const reason = netnsUnavailableReason();
  if (reason !== null) throw new Error(`netns LAN unavailable: ${reason}`);

  const octet = lanSubnetOctet(prefix);
  const net = `10.213.${octet}`;
  const switchNs = `${prefix}-sw`;
  const hosts: LanHost[] = Array.from({ length: n }, (_, i) => ({
    ns: `${prefix}-h${i + 1}`,
    ip: `${net}.${i + 1}`,
    iface: HOST_IFACE,
  }));

  await destroyLanByPrefix(prefix);
  registerExitCleanup(prefix);

  try {
    // `ip netns add` sequentially: concurrent first-time adds can race on
    // making /run/netns a shared mount.
    await ip(['netns', 'add', switchNs]);
    for (const h of hosts) await ip(['netns', 'add', h.ns]);

    await ip(['-n', switchNs, 'link', 'set', 'lo', 'up']);
    await ip([
      '-n', switchNs, 'link', 'add', BRIDGE, 'type', 'bridge',
      'stp_state', '0', 'forward_delay', '0', 'mcast_snooping', '0',
    ]);
    await ip(['-n', switchNs, 'link', 'set', BRIDGE, 'up']);

    await Promise.all(
      hosts.map(async (h, i) => {
        const swPort = `h${i + 1}`;
        // create the pair directly in the switch ns, peer directly in the host ns
        await ip(['-n', switchNs, 'link', 'add', swPort, 'type', 'veth', 'peer', 'name', h.iface, 'netns', h.ns]);
        await ip(['-n', switchNs, 'link', 'set', swPort, 'master', BRIDGE]);
        await ip(['-n', switchNs, 'link', 'set', swPort, 'up']);
        await ip(['-n', h.ns, 'link', 'set', 'lo', 'up']);
        await ip(['-n', h.ns, 'addr', 'add', `${h.ip}/24`, 'dev', h.iface]);
        await ip(['-n', h.ns, 'link', 'set', h.iface, 'up']);
        await ip(['-n', h.ns, 'route', 'add', '224.0.0.0/4', 'dev', h.iface]);
      }),
    );
  } catch (err) {
    await destroyLanByPrefix(prefix);
    activePrefixes.delete(prefix);
    throw err;
  }

  const children = new Set<ChildProcess>();
  let destroyed = false;

  const hostAt = (hostIndex: number): LanHost => {
    const h = hosts[hostIndex];
    if (h === undefined) throw new RangeError(`hostIndex ${hostIndex} out of range 0..${hosts.length - 1}`);
    return h;
  };

  const exec = (hostIndex: number, argv: string[], spawnOpts?: SpawnOptions): ChildProcess => {
    if (destroyed) throw new Error(`LAN ${prefix} already destroyed`);
    if (argv.length === 0) throw new Error('exec: empty argv');
    const h = hostAt(hostIndex);
    // `ip netns exec` setns()es and then execvp()s argv, so child.pid is argv[0]'s pid.
    const child = spawn('ip', ['netns', 'exec', h.ns, ...argv], { stdio: 'pipe', ...spawnOpts });
    children.add(child);
    child.once('exit', () => children.delete(child));
    child.once('error', () => children.delete(child));
    return child;
  };

  const run = (hostIndex: number, argv: string[], timeoutMs: number, spawnOpts?: SpawnOptions): Promise<RunResult> =>
    new Promise((resolve, reject) => {
      let child: ChildProcess;
      try {
        // own process group, so a timeout also kills grandchildren
        child = exec(hostIndex, argv, { stdio: ['ignore', 'pipe', 'pipe'], detached: true, ...spawnOpts });
      } catch (err) {
        reject(err);
        return;
      }
      let stdout = '';
      let stderr = '';
      let timedOut = false;
      child.stdout?.setEncoding('utf8').on('data', (d: string) => (stdout += d));
      child.stderr?.setEncoding('utf8').on('data', (d: string) => (stderr += d));
      const timer = setTimeout(() => {
        timedOut = true;
        try {
          if (child.pid !== undefined) process.kill(-child.pid, 'SIGKILL');
        } catch {
          child.kill('SIGKILL');
        }
      }, timeoutMs);
      child.once('error', (err) => {
        clearTimeout(timer);
        reject(new Error(`spawn failed: ${fmtCmd('ip', ['netns', 'exec', hostAt(hostIndex).ns, ...argv])}: ${err.message}`, { cause: err }));
      });
      child.once('close', (code, signal) => {
        clearTimeout(timer);
        resolve({ code, signal, stdout, stderr, timedOut });
      });
    });

  const destroy = async (): Promise<void> => {
    destroyed = true;
    try {
      for (const c of children) {
        try {
          c.kill('SIGKILL');
        } catch {
          /* ignore */
        }
      }
      children.clear();
      await destroyLanByPrefix(prefix);
    } catch {
      /* never throws */
    } finally {
      activePrefixes.delete(prefix);
    }
  };

  return { prefix, switchNs, subnet: `${net}.0/24`, hosts, exec, run, destroy };
}
