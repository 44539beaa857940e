// Driver of bench/toolbox (see that script). Prints one table: median and p99 of each figure, the
// reference measured in the same run, and the ratio.
'use strict';
const { Daytona } = require('@daytonaio/sdk');
const { execFile, execFileSync, spawn } = require('node:child_process');
const { promisify } = require('node:util');
const fs = require('node:fs');
const net = require('node:net');

const N = Number(process.env.BENCH_N || 100);
const { ms, pct, timed } = require('../run_bench/timing.cjs');
const rows = [];
const row = (name, ours, ref, refName, unit = 'ms') => rows.push({ name, ours, ref, refName, unit });

// Asynchronous: a synchronous child would block Node's event loop for the whole run, and the
// SDK's idle keep-alive connections would miss the server closing them (a "socket hang up" on
// the next API call).
async function wrk(args) {
  const { stdout: text } = await promisify(execFile)(args[0], args.slice(1), { encoding: 'utf8' });
  const rps = Number(/Requests\/sec:\s+([\d.]+)/.exec(text)[1]);
  const errors = /Non-2xx or 3xx responses: (\d+)/.exec(text);
  if (errors) throw new Error(`wrk saw ${errors[1]} failed responses:\n${text}`);
  return rps;
}

function crunPid(id) {
  return JSON.parse(execFileSync('crun', ['--root', process.env.CRUN_ROOT, 'state', id], { encoding: 'utf8' })).pid;
}

function rssKiB(pid) {
  return Number(/VmRSS:\s+(\d+)/.exec(fs.readFileSync(`/proc/${pid}/status`, 'utf8'))[1]);
}

async function daemonStartup(n) {
  const out = [];
  for (let i = 0; i < n; i++) {
    const port = await new Promise((resolve) => {
      const probe = net.createServer().listen(0, '127.0.0.1', () => {
        const p = probe.address().port;
        probe.close(() => resolve(p));
      });
    });
    const t0 = process.hrtime.bigint();
    const child = spawn(process.env.DAEMON_BIN, [], { env: { ...process.env, DAEMON_PORT: String(port) }, cwd: '/tmp', stdio: 'ignore' });
    for (;;) {
      const up = await new Promise((resolve) => {
        const s = net.connect(port, '127.0.0.1');
        s.on('connect', () => { s.destroy(); resolve(true); });
        s.on('error', () => resolve(false));
      });
      if (up) break;
    }
    out.push(ms(t0));
    child.kill('SIGTERM');
    await new Promise((r) => child.on('exit', r));
  }
  return out;
}

async function main() {
  const daytona = new Daytona({ apiKey: process.env.API_KEY, apiUrl: process.env.API_URL, target: 'local' });
  const sandbox = await daytona.create({ language: 'python' });
  for (let i = 0; i < 5; i++) {
    await sandbox.process.executeCommand('true');
    await sandbox.process.codeRun('print(1)');
  }
  const exec = await timed(N, async () => {
    const r = await sandbox.process.executeCommand('true');
    if (r.exitCode !== 0) throw new Error('true failed');
  });
  const code = await timed(N, async () => {
    const r = await sandbox.process.codeRun('print(1)');
    if (r.result !== '1\n') throw new Error(`print(1) gave ${JSON.stringify(r.result)}`);
  });
  const hostTrue = await timed(N, async () => execFileSync('/bin/true'));
  // The interpreter the sandbox runs (/usr/bin/python3 of the host userland): a `python3` found
  // on PATH may be a version manager's shim that alone takes ~150 ms.
  const hostPython = await timed(N, async () => execFileSync('/usr/bin/python3', ['-c', 'print(1)']));
  row('executeCommand `true` (SDK → proxy → runner → daemon)', exec, hostTrue, 'host /bin/true');
  row('codeRun `print(1)` (same path)', code, hostPython, "host /usr/bin/python3 -c 'print(1)'");

  // A keep-alive static server inside the sandbox, then wrk through the proxy and straight in.
  await sandbox.process.executeCommand(
    'mkdir -p /tmp/www && echo hello > /tmp/www/index.html && cd /tmp/www && nohup python3 -c "' +
      // Keep-alive, one send per response and no Nagle: else the 40 ms delayed-ACK stall of a
      // header and a body sent apart is all either side measures.
      'import http.server as h; R = h.SimpleHTTPRequestHandler; R.protocol_version = \'HTTP/1.1\'; ' +
      'R.wbufsize = 65536; R.disable_nagle_algorithm = True; ' +
      'h.ThreadingHTTPServer((\'127.0.0.1\', 8080), R).serve_forever()" ' +
      '>/dev/null 2>&1 & sleep 1');
  const link = await sandbox.getPreviewLink(8080);
  const duration = process.env.BENCH_WRK_SECONDS || '8';
  const proxied = [];
  const direct = [];
  for (let i = 0; i < 3; i++) {
    proxied.push(await wrk(['wrk', '-t1', '-c8', `-d${duration}s`, '-H', `x-daytona-preview-token: ${link.token}`, `${link.url}/index.html`]));
    direct.push(await wrk(['nsenter', '-t', String(crunPid(sandbox.id)), '-n', 'wrk', '-t1', '-c8', `-d${duration}s`, 'http://127.0.0.1:8080/index.html']));
  }
  row('proxy throughput, req/s (wrk -c8, 3 runs)', proxied, direct, 'wrk inside the sandbox netns', 'req/s');
  // One connection: requests/s is 1 / latency, so the ratio shows what the proxy path adds.
  const proxied1 = [];
  const direct1 = [];
  for (let i = 0; i < 3; i++) {
    proxied1.push(await wrk(['wrk', '-t1', '-c1', `-d${duration}s`, '-H', `x-daytona-preview-token: ${link.token}`, `${link.url}/index.html`]));
    direct1.push(await wrk(['nsenter', '-t', String(crunPid(sandbox.id)), '-n', 'wrk', '-t1', '-c1', `-d${duration}s`, 'http://127.0.0.1:8080/index.html']));
  }
  row('proxy, one connection, req/s (wrk -c1, 3 runs)', proxied1, direct1, 'wrk inside the sandbox netns', 'req/s');

  // The daemon: RSS of an idle sandbox's PID 1, and exec → accepting connections.
  const idle = await daytona.create({ language: 'python' });
  await new Promise((r) => setTimeout(r, 1000));
  const rss = rssKiB(crunPid(idle.id));
  const startup = await daemonStartup(50);

  console.log(`\nbench/toolbox, ${new Date().toISOString()}, N=${N}`);
  console.log('| figure | ours p50 | ours p99 | reference | ref p50 | ref p99 | ratio (p50) |');
  console.log('|---|---|---|---|---|---|---|');
  for (const r of rows) {
    const f = (x) => (r.unit === 'req/s' ? x.toFixed(0) : x.toFixed(2));
    const ratio = pct(r.ours, 50) / pct(r.ref, 50);
    console.log(`| ${r.name} | ${f(pct(r.ours, 50))} ${r.unit} | ${f(pct(r.ours, 99))} ${r.unit} | ${r.refName} | ` +
      `${f(pct(r.ref, 50))} ${r.unit} | ${f(pct(r.ref, 99))} ${r.unit} | ${ratio.toFixed(2)}x |`);
  }
  console.log(`| daemon idle RSS (PID 1 of a fresh sandbox) | ${(rss / 1024).toFixed(2)} MiB | | target 4 MiB | | | |`);
  console.log(`| daemon start-up to ready (exec → accepts), 50 runs | ${pct(startup, 50).toFixed(2)} ms | ${pct(startup, 99).toFixed(2)} ms | target 5 ms | | | |`);
  await sandbox.delete();
  await idle.delete();
  await daytona[Symbol.asyncDispose]?.();
  process.exit(0);
}

main().catch((e) => {
  console.error(e);
  process.exit(1);
});
