// bench/network's figures (see bench/network). Run twice, each time on a stack of its own:
//   BENCH_NET_PHASE=on   egress on, the test's internet as the uplink: creates (create → first
//                        output, the SDK), the network set-up each create's runner log shows,
//                        download throughput sandbox → test server beside host → test server
//                        (the same Python client, the bandwidth limit set out of the way), and
//                        the latency of a policy change (the API call sent → a loop inside the
//                        sandbox sees its first refused or accepted connection); writes JSON.
//   BENCH_NET_PHASE=off  egress off: the same creates; reads the JSON and prints the table rows.
// Rounds of BENCH_NET_CREATES (20) creates, 3 rounds each; p50 / p99 over all samples.
'use strict';
const { Daytona } = require('@daytonaio/sdk');
const { execFileSync } = require('node:child_process');
const fs = require('node:fs');
const { ms, pct } = require('./timing.cjs');

const N = Number(process.env.BENCH_NET_CREATES || 20);
const ROUNDS = 3;
const phase = process.env.BENCH_NET_PHASE;
const file = process.env.BENCH_NET_JSON;
const sleep = (t) => new Promise((r) => setTimeout(r, t));
const two = (v) => `${pct(v, 50).toFixed(1)} / ${pct(v, 99).toFixed(1)}`;

async function creates(daytona) {
  const out = [];
  for (let round = 0; round < ROUNDS; round++) {
    for (let i = 0; i < N; i++) {
      const t0 = process.hrtime.bigint();
      const s = await daytona.create({ autoStopInterval: 0 });
      const r = await s.process.executeCommand('echo ready');
      out.push(ms(t0));
      if (r.result.trim() !== 'ready') throw new Error(`first command gave ${JSON.stringify(r.result)}`);
      await s.delete();
      await sleep(100);
    }
  }
  return out;
}

// Seconds to download the test server's 8 MiB file with Python's urllib.
const DOWNLOAD = `import time, urllib.request
t = time.time(); n = len(urllib.request.urlopen('http://198.51.100.10/8mb.bin', timeout=60).read()); print(n, time.time() - t)`;

async function throughput(sandbox) {
  const ours = [];
  const host = [];
  for (let i = 0; i < 3 * ROUNDS; i++) {
    const r = await sandbox.process.executeCommand(`python3 -c "${DOWNLOAD}"`, undefined, undefined, 120);
    const [bytes, seconds] = r.result.trim().split(' ').map(Number);
    ours.push((bytes * 8) / seconds / 1e6);
    const [hb, hs] = execFileSync('python3', ['-c', DOWNLOAD]).toString().trim().split(' ').map(Number);
    host.push((hb * 8) / hs / 1e6);
  }
  return { ours, host };
}

// A loop in the sandbox connects to the test server every 2 ms (50 ms timeout) and writes the time
// of each change of outcome; the bench sends a policy change and reads when the loop saw it.
const WATCH = `import socket, sys, time
last = None
while True:
    try:
        s = socket.create_connection(('198.51.100.10', 80), timeout=0.05); s.close(); r = 'open'
    except OSError: r = 'closed'
    if r != last:
        with open('/tmp/watch.log', 'a') as f: f.write('%.6f %s\\n' % (time.time(), r))
        last = r
    time.sleep(0.002)
`;

async function policyLatency(sandbox) {
  await sandbox.fs.uploadFile(Buffer.from(WATCH), '/tmp/watch.py');
  await sandbox.process.executeCommand('rm -f /tmp/watch.log; (nohup python3 /tmp/watch.py >/dev/null 2>&1 &)');
  await sleep(500);
  const lat = [];
  const seen = async (state, after) => {
    for (let i = 0; i < 200; i++) {
      const log = (await sandbox.process.executeCommand('cat /tmp/watch.log')).result.trim().split('\n');
      const hit = log.map((l) => l.split(' ')).find(([t, r]) => r === state && Number(t) > after);
      if (hit) return Number(hit[0]);
      await sleep(25);
    }
    throw new Error(`the loop never saw ${state}`);
  };
  for (let i = 0; i < 10 * ROUNDS; i++) {
    const block = i % 2 === 0;
    const t0 = Date.now() / 1000;
    await sandbox.updateNetworkSettings({ networkBlockAll: block });
    lat.push((await seen(block ? 'closed' : 'open', t0) - t0) * 1000);
    await sleep(150);
  }
  await sandbox.process.executeCommand('pkill -f /tmp/watch.py');
  return lat;
}

function setupTimes() {
  const log = fs.readFileSync(`${process.env.SANDBOX_VAR}/log/runner.log`, 'utf8');
  const lines = [...log.matchAll(/network set up in ([0-9.]+) ms \(veth ([0-9.]+) ms, address and bandwidth ([0-9.]+) ms, rules ([0-9.]+) ms\)/g)];
  return { total: lines.map((m) => Number(m[1])), veth: lines.map((m) => Number(m[2])),
    inside: lines.map((m) => Number(m[3])), rules: lines.map((m) => Number(m[4])) };
}

async function main() {
  const daytona = new Daytona({ apiKey: process.env.API_KEY, apiUrl: process.env.API_URL, target: 'local' });
  if (phase === 'on') {
    const created = await creates(daytona);
    const setup = setupTimes();
    const s = await daytona.create({ autoStopInterval: 0 });
    const tp = await throughput(s);
    const policy = await policyLatency(s);
    await s.delete();
    fs.writeFileSync(file, JSON.stringify({ created, setup, tp, policy }));
    return;
  }
  const on = JSON.parse(fs.readFileSync(file, 'utf8'));
  const off = await creates(daytona);
  const row = (...cells) => console.log(`| ${cells.join(' | ')} |`);
  row('create → first output, egress on (p50 / p99 ms)', two(on.created), `egress off, same run: ${two(off)}`,
    `${(pct(on.created, 50) / pct(off, 50)).toFixed(2)}x`, 'a few ms more');
  row('network set-up per sandbox, runner (p50 / p99 ms; overlaps the daemon start)', two(on.setup.total),
    `of it: veth ${two(on.setup.veth)}, address and bandwidth ${two(on.setup.inside)}, rules ${two(on.setup.rules)}`, '-', 'a few ms');
  row('download sandbox → test server (p50 / p99 Mbit/s, limit lifted)', two(on.tp.ours),
    `host → test server: ${two(on.tp.host)}`, `${(pct(on.tp.ours, 50) / pct(on.tp.host, 50)).toFixed(2)}x`, '-');
  row('policy change → seen by the next connection (p50 / p99 ms)', two(on.policy), '-', '-', '≤ 1000 ms');
}

main().catch((e) => {
  console.error(e);
  process.exitCode = 1;
});
