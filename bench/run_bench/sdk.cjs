// bench/run's SDK figures (see bench/run): create → first executeCommand output, cold and from a
// warm pool; bursts of concurrent creates; executeCommand and codeRun. Prints table rows
// (| figure | ours p50 / p99 | reference (same run) p50 / p99 | ratio | target |), each
// reference measured in this run.
'use strict';
const { Daytona } = require('@daytonaio/sdk');
const { execFile, execFileSync, spawn } = require('node:child_process');
const { promisify } = require('node:util');

const N = Number(process.env.BENCH_CREATES || 30);
const CALLS = Number(process.env.BENCH_CALLS || 50);
const BURSTS = (process.env.BENCH_BURSTS || '20,100').split(',').map(Number);
const { ms, pct, timed } = require('./timing.cjs');
const sleep = (t) => new Promise((r) => setTimeout(r, t));
const two = (v) => `${pct(v, 50).toFixed(1)} / ${pct(v, 99).toFixed(1)} ms`;
const rows = [];
const row = (figure, ours, ref, ratio, target) => rows.push([figure, ours, ref, ratio, target]);

async function admin(method, path, body) {
  const res = await fetch(`${process.env.API_URL}${path}`, {
    method,
    headers: { Authorization: `Bearer ${process.env.ADMIN_API_KEY}`, 'Content-Type': 'application/json' },
    body: body === undefined ? undefined : JSON.stringify(body),
  });
  if (!res.ok) throw new Error(`${method} ${path}: ${res.status} ${await res.text()}`);
  return res.json();
}

async function poolReady() {
  const { items } = await admin('GET', '/admin/warm-pools');
  return items.find((p) => p.snapshot === 'default' && p.cpu === 1 && p.memory === 1 && p.disk === 3) || { ready: 0, starting: 0 };
}

async function waitFor(check, what, limitMs = 60000) {
  const t0 = Date.now();
  while (!(await check())) {
    if (Date.now() - t0 > limitMs) throw new Error(`timed out waiting for ${what}`);
    await sleep(20);
  }
}

// create → the first command's output, as an agent sees it; the sandbox is deleted afterwards
// and the runner given a moment, so one iteration does not time the last one's clean-up.
async function createToOutput(daytona) {
  const t0 = process.hrtime.bigint();
  const sandbox = await daytona.create({ language: 'python' });
  const r = await sandbox.process.executeCommand('echo ready');
  const took = ms(t0);
  if (r.result.trim() !== 'ready') throw new Error(`first command gave ${JSON.stringify(r.result)}`);
  await sandbox.delete();
  await sleep(150);
  return took;
}

// With BENCH_PROFILE_DIR set: a system-wide CPU profile (perf, cpu-clock: this machine has no
// hardware counters) of one series, as <dir>/<name>.perf, for `perf report --sort comm,dso`.
async function profiled(name, fn) {
  const dir = process.env.BENCH_PROFILE_DIR;
  if (!dir) return fn();
  const perf = spawn('perf', ['record', '-q', '-e', 'cpu-clock', '-a', '-g', '-o', `${dir}/${name}.perf`], { stdio: 'ignore' });
  await sleep(500);
  try {
    return await fn();
  } finally {
    perf.kill('SIGINT');
    await new Promise((r) => perf.on('exit', r));
  }
}

async function references(n) {
  const { stdout } = await promisify(execFile)('python3', [
    `${__dirname}/../runner_bench/bench.py`, '--var', process.env.SANDBOX_VAR, '--daemon', process.env.DAEMON_BIN,
    '--references', String(n)], { encoding: 'utf8', maxBuffer: 1 << 24 });
  return JSON.parse(stdout);
}

async function main() {
  const daytona = new Daytona({ apiKey: process.env.API_KEY, apiUrl: process.env.API_URL, target: 'local' });
  await admin('PUT', '/admin/warm-pools', { snapshot: 'default', size: 0 });
  for (let i = 0; i < 3; i++) await createToOutput(daytona);  // first runs of every code path

  const cold = [];
  await profiled('cold', async () => {
    for (let i = 0; i < N; i++) cold.push(await createToOutput(daytona));
  });
  const keep = await daytona.create({ language: 'python' });  // its bundle is the reference's
  const ref = await references(N);
  await keep.delete();
  const crunP50 = pct(ref.crun, 50);
  row(`create → first executeCommand output, cold, sequential (n=${N}, SDK defaults)`, two(cold),
      `bare \`crun run\` of the same bundle ${two(ref.crun)}`, `${(pct(cold, 50) / crunP50).toFixed(2)}x`,
      'p50 ≤ 60 ms, p99 ≤ 150 ms, ≤ 1.5x bare crun');
  row('  reference: `unshare` of the same namespaces', '', two(ref.unshare), `${(pct(cold, 50) / pct(ref.unshare, 50)).toFixed(2)}x`, '');

  await admin('PUT', '/admin/warm-pools', { snapshot: 'default', size: 3 });
  const warm = [];
  await waitFor(async () => (await poolReady()).ready >= 3, 'a full warm pool');
  await profiled('warm', async () => {
    for (let i = 0; i < N; i++) {
      await waitFor(async () => (await poolReady()).ready >= 1, 'a ready warm sandbox');
      await sleep(100);  // the refill's start of the next one is not part of this create
      warm.push(await createToOutput(daytona));
    }
  });
  row(`create → first executeCommand output, warm pool (n=${N})`, two(warm), `bare \`crun run\` ${two(ref.crun)}`,
      `${(pct(warm, 50) / crunP50).toFixed(2)}x`, 'p50 ≤ 25 ms');
  await admin('PUT', '/admin/warm-pools', { snapshot: 'default', size: 0 });
  await waitFor(async () => { const p = await poolReady(); return p.ready === 0 && p.starting === 0; }, 'the pool to empty');

  for (const k of BURSTS) {
    let made;
    let all;
    await (k === 100 ? (fn) => profiled('burst', fn) : (fn) => fn())(async () => {
      const t0 = process.hrtime.bigint();
      made = await Promise.all(Array.from({ length: k }, () => daytona.create({ language: 'python' })));
      all = ms(t0);
    });
    const bare = ref.crun_burst[String(k)];
    row(`burst: ${k} concurrent creates (SDK), all started`, `${all.toFixed(0)} ms`,
        bare === undefined ? '' : `${k} bare \`crun run\` of the same bundle, ${ref.workers} at a time: ${bare.toFixed(0)} ms`,
        bare === undefined ? '' : `${(all / bare).toFixed(2)}x`,
        k === 20 ? '≤ 1.5 s' : k === 100 ? '≤ 6 s; ≤ 1 s (issue 17)' : '');
    await Promise.all(made.map((s) => s.delete()));
    await sleep(3000);
  }

  const sandbox = await daytona.create({ language: 'python' });
  for (let i = 0; i < 5; i++) {
    await sandbox.process.executeCommand('true');
    await sandbox.process.codeRun('print(1)');
  }
  const exec = await timed(CALLS, async () => {
    if ((await sandbox.process.executeCommand('true')).exitCode !== 0) throw new Error('true failed');
  });
  const code = await timed(CALLS, async () => {
    const r = await sandbox.process.codeRun('print(1)');
    if (r.result !== '1\n') throw new Error(`print(1) gave ${JSON.stringify(r.result)}`);
  });
  const hostTrue = await timed(CALLS, async () => execFileSync('/bin/true'));
  // /usr/bin/python3 is what the sandbox runs; a python3 first on PATH may be a version manager's shim.
  const hostPython = await timed(CALLS, async () => execFileSync('/usr/bin/python3', ['-c', 'print(1)']));
  row(`executeCommand \`true\` (SDK → proxy → runner → daemon, n=${CALLS})`, two(exec), `host /bin/true ${two(hostTrue)}`,
      `${(pct(exec, 50) / pct(hostTrue, 50)).toFixed(2)}x`, '');
  row(`codeRun \`print(1)\` (same path, n=${CALLS})`, two(code), `host /usr/bin/python3 ${two(hostPython)}`,
      `${(pct(code, 50) / pct(hostPython, 50)).toFixed(2)}x`, '≤ 1.5x host python');
  // SSH through the gateway: a whole `ssh … true` (connect, key exchange, auth, channel, exit).
  const { token } = await sandbox.createSshAccess(60);
  const sshArgs = ['-p', process.env.SSH_PORT, '-o', 'StrictHostKeyChecking=no', '-o', 'UserKnownHostsFile=/dev/null',
    '-o', 'LogLevel=ERROR', '-o', 'BatchMode=yes', `${token}@${process.env.SSH_HOST}`, 'true'];
  execFileSync('ssh', sshArgs);
  const ssh = await timed(CALLS, async () => execFileSync('ssh', sshArgs));
  row(`\`ssh … true\` through the SSH gateway (a new connection each, n=${CALLS})`, two(ssh),
      `executeCommand \`true\` ${two(exec)}`, `${(pct(ssh, 50) / pct(exec, 50)).toFixed(2)}x`, '');
  await sandbox.delete();

  for (const r of rows) console.log(`| ${r.join(' | ')} |`);
  process.exit(0);
}

main().catch((e) => {
  console.error(e);
  process.exit(1);
});
