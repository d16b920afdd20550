/**
 * Self-test for test/helpers/netns.ts (a script, not a mocha test):
 *
 *   node_modules/.bin/node test/helpers/netns-selftest.ts
 *
 * Needs root. Builds a 3-host LAN, checks mDNS (multicast-dns) discovery
 * between every pair within 3 s and a TCP connection h2 -> h1, then destroys
 * the LAN and checks no namespace with the prefix is left. Exit code 0 = pass,
 * 1 = fail, 77 = skipped (netns unavailable).
 */
import { execFileSync } from 'node:child_process';
import type { ChildProcess } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { createLan, netnsUnavailableReason, type Lan } from './netns.ts';

const PREFIX = 'wmselftest';
const SERVICE = '_selftest._udp.local';
const MDNS_DEADLINE_MS = 3000;
const ROOT = fileURLToPath(new URL('../../', import.meta.url));
const NODE = process.execPath;

// Runs inside each host namespace (CommonJS via `node -e`, cwd = project root
// so require('multicast-dns') resolves). argv[1] = our name.
const MDNS_CHILD = `
const name = process.argv[1];
const SVC = ${JSON.stringify(SERVICE)};
const t0 = Date.now();
const out = (o) => process.stdout.write(JSON.stringify({ t: Date.now() - t0, ...o }) + '\\n');
const mdns = require('multicast-dns')();
const seen = new Set();
mdns.on('query', (q, rinfo) => {
  if (q.questions.some((x) => x.name === SVC && (x.type === 'PTR' || x.type === 'ANY'))) {
    mdns.respond({ answers: [{ name: SVC, type: 'PTR', ttl: 120, data: name + '.' + SVC }] });
  }
});
mdns.on('response', (r, rinfo) => {
  for (const a of r.answers) {
    if (a.name !== SVC || a.type !== 'PTR') continue;
    const peer = String(a.data).split('.')[0];
    if (peer === name || seen.has(peer)) continue;
    seen.add(peer);
    out({ event: 'seen', peer, from: rinfo.address });
  }
});
mdns.on('warning', (e) => out({ event: 'warning', msg: String(e && e.message || e) }));
mdns.on('error', (e) => { out({ event: 'error', msg: String(e && e.message || e) }); process.exit(2); });
mdns.on('ready', () => {
  out({ event: 'ready', ifaces: Object.values(require('os').networkInterfaces()).flat().filter((i) => i.family === 'IPv4').map((i) => i.address) });
  const q = () => mdns.query({ questions: [{ name: SVC, type: 'PTR' }] }, (err) => { if (err) out({ event: 'query-error', msg: err.message }); });
  q();
  setInterval(q, 250);
});
`;

const TCP_SERVER = `
require('net').createServer((s) => s.end('hello ' + s.remoteAddress + ' from ' + process.argv[1] + '\\n'))
  .listen(7777, '0.0.0.0', () => console.log('listening'));
`;
const TCP_CLIENT = `
const s = require('net').connect(7777, process.argv[1]);
let buf = '';
s.setEncoding('utf8').on('data', (d) => (buf += d)).on('end', () => { process.stdout.write(buf); process.exit(0); });
s.on('error', (e) => { console.error(e.message); process.exit(1); });
`;

function lines(child: ChildProcess, onLine: (line: string) => void): void {
  let buf = '';
  child.stdout?.setEncoding('utf8').on('data', (d: string) => {
    buf += d;
    let i: number;
    while ((i = buf.indexOf('\n')) >= 0) {
      onLine(buf.slice(0, i));
      buf = buf.slice(i + 1);
    }
  });
}

async function checkMdns(lan: Lan): Promise<string[]> {
  const failures: string[] = [];
  const names = lan.hosts.map((h) => h.ns);
  const seen = names.map(() => new Map<string, { t: number; from: string }>());
  const stderr = names.map(() => '');
  const children: ChildProcess[] = [];
  const start = Date.now();
  let resolveAll!: () => void;
  const allSeen = new Promise<void>((r) => (resolveAll = r));
  const done = (): boolean => seen.every((m, i) => names.every((n, j) => i === j || m.has(n)));

  names.forEach((name, i) => {
    const c = lan.exec(i, [NODE, '-e', MDNS_CHILD, name], { cwd: ROOT });
    children.push(c);
    c.stderr?.setEncoding('utf8').on('data', (d: string) => (stderr[i] += d));
    lines(c, (line) => {
      const ev = JSON.parse(line) as { t: number; event: string; peer?: string; from?: string; msg?: string; ifaces?: string[] };
      const since = Date.now() - start;
      if (ev.event === 'seen' && ev.peer !== undefined) {
        seen[i]!.set(ev.peer, { t: since, from: ev.from ?? '?' });
        console.log(`  [${since} ms] ${name} saw ${ev.peer} (from ${ev.from}; ${ev.t} ms after child start)`);
        if (done()) resolveAll();
      } else {
        console.log(`  [${since} ms] ${name}: ${line}`);
      }
    });
  });

  let timeout: NodeJS.Timeout | undefined;
  const timer = new Promise<void>((r) => (timeout = setTimeout(r, MDNS_DEADLINE_MS)));
  await Promise.race([allSeen, timer]);
  clearTimeout(timeout);
  for (const c of children) c.kill('SIGKILL');

  names.forEach((name, i) => {
    for (const [j, other] of names.entries()) {
      if (i === j) continue;
      const s = seen[i]!.get(other);
      if (s === undefined) failures.push(`mDNS: ${name} did not see ${other} within ${MDNS_DEADLINE_MS} ms`);
      else if (s.from !== lan.hosts[j]!.ip) failures.push(`mDNS: ${name} saw ${other} from ${s.from}, expected ${lan.hosts[j]!.ip}`);
    }
    if (stderr[i]!.trim()) console.log(`  ${name} stderr: ${stderr[i]!.trim()}`);
  });
  if (failures.length === 0) console.log(`mDNS: all ${names.length * (names.length - 1)} directed pairs discovered in ${Date.now() - start} ms (since spawn)`);
  return failures;
}

async function checkTcp(lan: Lan): Promise<string[]> {
  const server = lan.exec(0, [NODE, '-e', TCP_SERVER, lan.hosts[0]!.ns], { cwd: ROOT });
  try {
    const listening = await new Promise<boolean>((resolve) => {
      const t = setTimeout(() => resolve(false), 3000);
      lines(server, (l) => {
        if (l === 'listening') {
          clearTimeout(t);
          resolve(true);
        }
      });
      server.once('exit', () => resolve(false));
    });
    if (!listening) return ['TCP: server in h1 did not start listening'];
    const t0 = Date.now();
    const r = await lan.run(1, [NODE, '-e', TCP_CLIENT, lan.hosts[0]!.ip], 5000);
    const expect = `hello ${lan.hosts[1]!.ip} from ${lan.hosts[0]!.ns}`;
    console.log(`TCP: h2 -> ${lan.hosts[0]!.ip}:7777 code=${r.code} timedOut=${r.timedOut} (${Date.now() - t0} ms) stdout=${JSON.stringify(r.stdout.trim())} stderr=${JSON.stringify(r.stderr.trim())}`);
    return r.code === 0 && r.stdout.trim() === expect ? [] : [`TCP: expected ${JSON.stringify(expect)}`];
  } finally {
    server.kill('SIGKILL');
  }
}

async function checkIsolation(lan: Lan): Promise<string[]> {
  // h3 must have no route off the LAN (we never want test traffic leaking out);
  // use a TEST-NET-1 documentation address, which ENETUNREACH stops before any packet is sent.
  const r = await lan.run(2, ['ip', 'route', 'get', '192.0.2.1'], 3000);
  const ok = r.code !== 0 && /unreachable/i.test(r.stderr);
  console.log(`isolation: 'ip route get 192.0.2.1' in h3 -> code=${r.code} ${JSON.stringify(r.stderr.trim())}`);
  return ok ? [] : ['isolation: h3 has a route off the LAN'];
}

function leftovers(): string[] {
  const out = execFileSync('ip', ['netns', 'list'], { encoding: 'utf8', timeout: 5000 });
  return out.split('\n').map((l) => l.trim().split(/\s+/)[0] ?? '').filter((n) => n.startsWith(`${PREFIX}-`));
}

async function main(): Promise<number> {
  const reason = netnsUnavailableReason();
  if (reason !== null) {
    console.log(`SKIP: ${reason}`);
    return 77;
  }
  // simulate leftovers of a crashed run: createLan must clean them up
  for (const n of [`${PREFIX}-sw`, `${PREFIX}-h2`]) {
    try {
      execFileSync('ip', ['netns', 'add', n], { stdio: 'ignore', timeout: 5000 });
    } catch {
      /* may already exist */
    }
  }

  const failures: string[] = [];
  let orphanPid = NaN;
  const t0 = Date.now();
  const lan = await createLan({ prefix: PREFIX, hosts: 3 });
  try {
    console.log(`created LAN ${lan.prefix} (${lan.subnet}) in ${Date.now() - t0} ms: ${lan.hosts.map((h) => `${h.ns}=${h.ip}`).join(' ')}`);
    for (let i = 0; i < lan.hosts.length; i++) {
      const r = await lan.run(i, ['ip', '-4', '-br', 'addr'], 3000);
      const rt = await lan.run(i, ['ip', 'route'], 3000);
      console.log(`  ${lan.hosts[i]!.ns}: ${r.stdout.trim().replace(/\n/g, ' | ')} ; routes: ${rt.stdout.trim().replace(/\n/g, ' | ')}`);
    }
    const to = await lan.run(0, ['sleep', '10'], 200);
    console.log(`run timeout: sleep 10 with 200 ms timeout -> code=${to.code} signal=${to.signal} timedOut=${to.timedOut}`);
    if (!to.timedOut) failures.push('run() timeout did not fire');

    failures.push(...(await checkMdns(lan)));
    failures.push(...(await checkTcp(lan)));
    failures.push(...(await checkIsolation(lan)));

    // a background grandchild left running in h3: destroy() must kill it
    // (otherwise it would keep the namespace and its veth alive)
    const bg = await lan.run(2, ['sh', '-c', 'sleep 60 >/dev/null 2>&1 & echo $!'], 3000);
    orphanPid = Number.parseInt(bg.stdout.trim(), 10);
    console.log(`left a background 'sleep 60' running in h3 (pid ${orphanPid})`);
  } catch (err) {
    failures.push(`exception: ${(err as Error).stack ?? String(err)}`);
  } finally {
    const td = Date.now();
    await lan.destroy();
    await lan.destroy(); // idempotent
    console.log(`destroyed LAN in ${Date.now() - td} ms (destroy() called twice)`);
  }
  if (Number.isInteger(orphanPid)) {
    // SIGKILL is asynchronous and the orphan is reaped by PID 1, so poll
    // briefly; a zombie (state Z) counts as dead.
    const isAlive = (): boolean => {
      try {
        const st = readFileSync(`/proc/${orphanPid}/status`, 'utf8');
        return !/^State:\s+[ZX]/m.test(st);
      } catch {
        return false;
      }
    };
    let alive = isAlive();
    for (let i = 0; alive && i < 50; i++) {
      await new Promise((r) => setTimeout(r, 20));
      alive = isAlive();
    }
    console.log(`background pid ${orphanPid} after destroy: ${alive ? 'STILL ALIVE' : 'gone'}`);
    if (alive) failures.push(`process ${orphanPid} inside the LAN survived destroy()`);
  }
  const left = leftovers();
  console.log(`ip netns list after destroy: ${left.length === 0 ? `nothing with prefix ${PREFIX}-` : left.join(' ')}`);
  if (left.length > 0) failures.push(`leftover namespaces: ${left.join(' ')}`);

  if (failures.length > 0) {
    console.log(`FAIL:\n  ${failures.join('\n  ')}`);
    return 1;
  }
  console.log('PASS');
  return 0;
}

process.exitCode = await main();
