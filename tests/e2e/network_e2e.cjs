// Sandbox egress (issue 16) end to end, in the test's own internet (tests/e2e/internet: TEST-NET
// servers, a DNS zone, the runner's uplink and upstream resolver pointed at it): default egress by
// name and by address, block-all, CIDR and domain allow lists, the deny list, a live change seen by
// a running loop's next connection, the always-refused targets under the widest policies, the
// bandwidth limit, an organization's defaults and limit, the API's checks and who may call it,
// and a runner killed and restarted leaving nothing behind. Through the real @daytonaio/sdk.
// Env: API_URL, API_KEY, ADMIN_API_KEY, SANDBOX_VAR, INTERNET_DIR, SANDBOX_API_PORT, ...
'use strict';
const assert = require('node:assert/strict');
const { spawnSync, execFileSync } = require('node:child_process');
const fs = require('node:fs');
const net = require('node:net');
const os = require('node:os');
const path = require('node:path');
const { Daytona } = require('@daytonaio/sdk');
const { newOrganization } = require('./stack.cjs');

const env = process.env;
const { API_URL: apiUrl, API_KEY: apiKey, ADMIN_API_KEY: adminKey, SANDBOX_VAR: varDir } = env;
const { step, finish } = require('./steps.cjs').steps('network_e2e.cjs');
const sleep = (ms) => new Promise((r) => setTimeout(r, ms));

// Runs in the sandbox: each argument host:port, probed at once; prints "host:port open|closed|noname".
const PROBE = `
import socket, sys, threading
out = {}
def probe(arg):
    host, port = arg.rsplit(':', 1)
    try:
        s = socket.create_connection((host, int(port)), timeout=2); s.close(); out[arg] = 'open'
    except socket.gaierror: out[arg] = 'noname'
    except OSError: out[arg] = 'closed'
ts = [threading.Thread(target=probe, args=(a,)) for a in sys.argv[1:]]
[t.start() for t in ts]; [t.join() for t in ts]
for a in sys.argv[1:]: print(a, out[a])
`;
// Runs in the sandbox: each argument name@host, an HTTPS GET of /hello.txt to host:443 with SNI
// `name` ("none": no SNI), the test CA trusted; prints "name@host ok|refused".
const TLS = `
import socket, ssl, sys
for arg in sys.argv[1:]:
    name, host = arg.split('@')
    ctx = ssl.create_default_context(cafile='/tmp/test-ca.crt')
    if name == 'none': ctx.check_hostname = False
    try:
        s = socket.create_connection((host, 443), timeout=3)
        t = ctx.wrap_socket(s, server_hostname=None if name == 'none' else name)
        t.sendall(b'GET /hello.txt HTTP/1.0\\r\\n\\r\\n'); data = t.recv(4096)
        print(arg, 'ok' if b'200' in data.split(b'\\r\\n')[0] else 'bad')
    except OSError: print(arg, 'refused')
`;
// Runs in the sandbox: an A query for argv[1] over TCP to the resolver; prints the last answer's address.
const TCP_DNS = `
import socket, struct, sys
q = b'\\x12\\x34\\x01\\x00\\x00\\x01\\x00\\x00\\x00\\x00\\x00\\x00'
q += b''.join(bytes([len(p)]) + p.encode() for p in sys.argv[1].split('.')) + b'\\x00\\x00\\x01\\x00\\x01'
s = socket.create_connection(('10.213.0.1', 53), timeout=3); s.sendall(struct.pack('>H', len(q)) + q)
n = struct.unpack('>H', s.recv(2))[0]; r = b''
while len(r) < n: r += s.recv(n - len(r))
print('.'.join(map(str, r[-4:])))
`;
// Every 200 ms a new connection to web.test:80; a line per attempt with the time.
const LOOP = `
import socket, time
while True:
    try:
        s = socket.create_connection(('web.test', 80), timeout=1); s.close(); r = 'open'
    except OSError: r = 'closed'
    with open('/tmp/loop.log', 'a') as f: f.write('%.3f %s\\n' % (time.time(), r))
    time.sleep(0.2)
`;

async function probe(sandbox, targets) {
  const r = await sandbox.process.executeCommand(`python3 /tmp/probe.py ${targets.join(' ')}`, undefined, undefined, 30);
  const seen = {};
  for (const line of r.result.trim().split('\n')) {
    const [t, v] = line.trim().split(' ');
    seen[t] = v;
  }
  return seen;
}

async function prepared(sandbox) {
  await sandbox.fs.uploadFile(Buffer.from(PROBE), '/tmp/probe.py');
  return sandbox;
}

// Back to the open policy (a failed step must not decide the next one's outcome).
async function reopen(sandbox) {
  const r = await api('POST', `/sandbox/${sandbox.id}/network-settings`, apiKey, { networkBlockAll: false, networkDenyList: '' });
  if (r.status !== 200) throw new Error(`reopening: ${r.status} ${JSON.stringify(r.json)}`);
  await sleep(1000);
}

async function api(method, p, key, body) {
  const headers = { 'Content-Type': 'application/json' };
  if (key) headers.Authorization = `Bearer ${key}`;
  const res = await fetch(`${apiUrl}${p}`, { method, headers, body: body === undefined ? undefined : JSON.stringify(body) });
  const text = await res.text();
  let json;
  try { json = JSON.parse(text); } catch { json = text; }
  return { status: res.status, json };
}

function hostAddress() {
  for (const list of Object.values(os.networkInterfaces())) {
    for (const a of list || []) if (a.family === 'IPv4' && !a.internal && !a.address.startsWith('172.31.213.')) return a.address;
  }
  return null;
}

const hostFile = () => fs.readFileSync(path.join(varDir, 'runner/net/host'), 'utf8');
const tag = () => /veths (sx[0-9a-f]+)x/.exec(hostFile())[1];
const indexOf = (id) => Number(fs.readFileSync(path.join(varDir, 'runner/net', id), 'utf8'));
const linkExists = (name) => fs.existsSync(`/sys/class/net/${name}`);
const nftTable = () => execFileSync('nft', ['list', 'table', 'inet', `sbx_${tag().slice(2)}`]).toString();

async function main() {
  assert.ok(apiUrl && apiKey && adminKey && varDir, 'API_URL, API_KEY, ADMIN_API_KEY, SANDBOX_VAR must be set');
  const daytona = new Daytona({ apiKey, apiUrl, target: 'local' });
  const a = await prepared(await daytona.create({ autoStopInterval: 0 }));
  const web = ['web.test:80', '198.51.100.10:80'];

  await step('default egress reaches the test internet by name and by address', async () => {
    const seen = await probe(a, [...web, 'allowed.test:443']);
    assert.deepEqual(seen, { 'web.test:80': 'open', '198.51.100.10:80': 'open', 'allowed.test:443': 'open' });
    const r = await a.process.executeCommand(`python3 -c "import urllib.request;print(urllib.request.urlopen('http://web.test/hello.txt',timeout=5).read().decode())"`);
    assert.equal(r.result.trim(), 'hello from the test internet');
    assert.match((await a.process.executeCommand('cat /etc/resolv.conf')).result, /nameserver 10\.213\.0\.1/);
    // DNS over TCP too (two-byte length, then the message).
    await a.fs.uploadFile(Buffer.from(TCP_DNS), '/tmp/tcp_dns.py');
    assert.equal((await a.process.executeCommand('python3 /tmp/tcp_dns.py web.test')).result.trim(), '198.51.100.10');
  });

  await step('networkBlockAll stops both (toolbox and previews still work), and false opens them again (SDK updateNetworkSettings)', async () => {
    await a.updateNetworkSettings({ networkBlockAll: true });
    assert.equal(a.networkBlockAll, true);
    await sleep(1000);  // applied within a second
    assert.deepEqual(await probe(a, web), { 'web.test:80': 'noname', '198.51.100.10:80': 'closed' });
    // The toolbox (these commands) and previews still work through the runner.
    await a.process.executeCommand('mkdir -p /tmp/site && echo preview-ok > /tmp/site/index.html && ' +
      '(nohup python3 -m http.server 8080 --directory /tmp/site >/dev/null 2>&1 &)');
    const link = await a.getPreviewLink(8080);
    let page;
    for (let i = 0; i < 50; i++) {
      page = await fetch(link.url + '/index.html', { headers: { 'x-daytona-preview-token': link.token } });
      if (page.status === 200) break;
      await sleep(100);
    }
    assert.equal(page.status, 200);
    assert.equal((await page.text()).trim(), 'preview-ok');
    await a.updateNetworkSettings({ networkBlockAll: false });
    assert.equal(a.networkBlockAll, false);
    await sleep(1000);
    assert.deepEqual(await probe(a, web), { 'web.test:80': 'open', '198.51.100.10:80': 'open' });
  });

  await step('a CIDR allow list opens only its addresses', async () => {
    await reopen(a);
    await a.updateNetworkSettings({ networkAllowList: '198.51.100.0/24' });
    assert.equal(a.networkAllowList, '198.51.100.0/24');
    await sleep(1000);
    assert.deepEqual(await probe(a, ['198.51.100.10:80', '203.0.113.10:80', 'web.test:80']),
      { '198.51.100.10:80': 'open', '203.0.113.10:80': 'closed', 'web.test:80': 'open' });
  });

  await step('a domain allow list: listed names and wildcards resolve and connect, others do not resolve', async () => {
    await a.updateNetworkSettings({ networkAllowList: '', domainAllowList: 'allowed.test,*.wild.test' });
    assert.equal(a.domainAllowList, 'allowed.test,*.wild.test');
    await sleep(1000);
    const seen = await probe(a, ['allowed.test:80', 'a.wild.test:80', 'web.test:80', 'denied.test:80', '198.51.100.10:80']);
    assert.deepEqual(seen, { 'allowed.test:80': 'open', 'a.wild.test:80': 'open', 'web.test:80': 'noname',
      'denied.test:80': 'noname', '198.51.100.10:80': 'closed' });
  });

  await step('HTTPS through the SNI gate: another name on an allowed address is refused, a denied name too', async () => {
    await a.fs.uploadFile(fs.readFileSync(env.INTERNET_CERT), '/tmp/test-ca.crt');
    await a.fs.uploadFile(Buffer.from(TLS), '/tmp/tls.py');
    const tls = async (...pairs) => Object.fromEntries((await a.process.executeCommand(`python3 /tmp/tls.py ${pairs.join(' ')}`,
      undefined, undefined, 30)).result.trim().split('\n').map((l) => l.split(' ')));
    // The domain allow list of the step before: allowed.test and other.test share 203.0.113.10.
    assert.deepEqual(await tls('allowed.test@allowed.test', 'other.test@203.0.113.10', 'a.wild.test@a.wild.test', 'none@203.0.113.10'),
      { 'allowed.test@allowed.test': 'ok', 'other.test@203.0.113.10': 'refused', 'a.wild.test@a.wild.test': 'ok',
        'none@203.0.113.10': 'refused' });
    await reopen(a);
    // (the SDK's own check wants one of its three fields: the deny list is this platform's own)
    assert.equal((await api('POST', `/sandbox/${a.id}/network-settings`, apiKey, { networkDenyList: 'denied.test' })).status, 200);
    await sleep(1000);
    assert.deepEqual(await tls('denied.test@203.0.113.20', 'allowed.test@203.0.113.20', 'web.test@web.test'),
      { 'denied.test@203.0.113.20': 'refused', 'allowed.test@203.0.113.20': 'ok', 'web.test@web.test': 'ok' });
  });

  await step('a deny list closes CIDRs and names under an open policy', async () => {
    await reopen(a);
    const r = await api('POST', `/sandbox/${a.id}/network-settings`, apiKey,
      { networkBlockAll: false, networkDenyList: '198.51.100.10/32,denied.test' });
    assert.equal(r.status, 200, JSON.stringify(r.json));
    assert.equal(r.json.networkDenyList, '198.51.100.10/32,denied.test');
    assert.equal(r.json.domainAllowList, undefined);
    await sleep(1000);
    assert.deepEqual(await probe(a, ['web.test:80', 'denied.test:80', 'allowed.test:80']),
      { 'web.test:80': 'closed', 'denied.test:80': 'noname', 'allowed.test:80': 'open' });
    await api('POST', `/sandbox/${a.id}/network-settings`, apiKey, { networkDenyList: '' });
  });

  await step('a live change reaches a running loop at its next connection (within a second)', async () => {
    await reopen(a);
    await a.fs.uploadFile(Buffer.from(LOOP), '/tmp/loop.py');
    await a.process.executeCommand('rm -f /tmp/loop.log; (nohup python3 /tmp/loop.py >/dev/null 2>&1 &)');
    await sleep(1500);
    const changedAt = Date.now() / 1000;
    await a.updateNetworkSettings({ networkBlockAll: true });
    await sleep(2500);
    const lines = (await a.process.executeCommand('cat /tmp/loop.log; pkill -f /tmp/loop.py')).result.trim().split('\n')
      .map((l) => l.split(' ')).filter((p) => p.length === 2).map(([t, r]) => ({ t: Number(t), r }));
    assert.ok(lines.some((l) => l.t < changedAt && l.r === 'open'), 'the loop reached web.test before the change');
    const after = lines.filter((l) => l.t > changedAt + 1.2);
    assert.ok(after.length >= 3 && after.every((l) => l.r === 'closed'), JSON.stringify(lines.slice(-8)));
    const firstClosed = lines.find((l) => l.t > changedAt && l.r === 'closed');
    console.log(`     first refused connection ${((firstClosed.t - changedAt) * 1000).toFixed(0)} ms after the change was sent`);
    await a.updateNetworkSettings({ networkBlockAll: false });
  });

  await step('always refused under any policy: the host, its services, the runner, other sandboxes, metadata', async () => {
    await reopen(a);
    const server = net.createServer((s) => s.end()).listen(0, '0.0.0.0');
    await new Promise((r) => server.once('listening', r));
    const port = server.address().port;
    // A host service on 443 too: a sandbox whose policy names domains has its 443 go to the SNI
    // gate, which must not connect to the host for it. (Skipped when 443 is taken here.)
    const tls = net.createServer((s) => s.end());
    const on443 = await new Promise((r) => tls.once('error', () => r(false)).listen(443, '0.0.0.0', () => r(true)));
    const b = await prepared(await daytona.create({ autoStopInterval: 0 }));
    try {
      const ipOf = async (s) => (await s.process.executeCommand(
        `python3 -c "import socket;s=socket.socket(socket.AF_INET,socket.SOCK_DGRAM);s.connect(('198.51.100.10',80));print(s.getsockname()[0])"`)).result.trim();
      const bAddress = await ipOf(b);
      await b.process.executeCommand('(nohup python3 -m http.server 8080 --bind 0.0.0.0 >/dev/null 2>&1 &)');
      const host = hostAddress();
      const runnerPort = (env.RUNNER_ENDPOINT || '').split(':')[1];
      const targets = [`${host}:${port}`, `172.31.213.1:${port}`, `10.213.0.1:${port}`, `10.213.0.1:22`,
        `${host}:${env.SANDBOX_API_PORT}`, `${host}:${env.SANDBOX_PG_PORT}`, `${host}:${env.SANDBOX_NATS_PORT}`,
        `${host}:${runnerPort}`, `10.213.0.1:${runnerPort}`, `10.213.0.1:${env.SANDBOX_PG_PORT}`,
        `${bAddress}:8080`, '169.254.169.254:80', ...(on443 ? [`${host}:443`, '172.31.213.1:443', '10.213.0.1:443'] : [])];
      // Controls: the host reaches its listener and sandbox B's server; the refusals are the filter's.
      const reach = (h, p) => new Promise((resolve) => {
        const s = net.connect({ host: h, port: p, timeout: 2000 }, () => { s.destroy(); resolve(true); });
        s.on('error', () => resolve(false)).on('timeout', () => { s.destroy(); resolve(false); });
      });
      for (let i = 0; i < 20 && !(await reach(bAddress, 8080)); i++) await sleep(200);
      assert.ok(await reach(host, port), 'control: the host reaches its own listener');
      assert.ok(await reach(bAddress, 8080), 'control: the host reaches sandbox B');
      if (on443) assert.ok(await reach(host, 443), 'control: the host reaches its listener on 443');
      // Open, the widest allow list, and a deny-list name (its 443 goes through the SNI gate).
      for (const settings of [{ networkBlockAll: false }, { networkAllowList: '0.0.0.0/0' },
        { networkAllowList: '', networkDenyList: 'denied.test' }]) {
        const set = await api('POST', `/sandbox/${a.id}/network-settings`, apiKey, settings);
        assert.equal(set.status, 200, JSON.stringify(set.json));
        await sleep(1000);
        const seen = await probe(a, [...targets, '198.51.100.10:80']);
        assert.equal(seen['198.51.100.10:80'], 'open', `control under ${JSON.stringify(settings)}`);
        for (const t of targets) assert.equal(seen[t], 'closed', `${t} under ${JSON.stringify(settings)}`);
      }
      await reopen(a);
    } finally {
      server.close();
      tls.close();
      await daytona.delete(b);
    }
  });

  await step('bandwidth is limited per CPU (20 Mbit/s in this stack), the host is not', async () => {
    await reopen(a);
    const r = await a.process.executeCommand(`python3 -c "
import time, urllib.request
t = time.time(); n = len(urllib.request.urlopen('http://198.51.100.10/8mb.bin', timeout=30).read())
print(n, time.time() - t)"`, undefined, undefined, 60);
    const [bytes, seconds] = r.result.trim().split(' ').map(Number);
    const mbit = (bytes * 8) / seconds / 1e6;
    const t0 = Date.now();
    const host = spawnSync('curl', ['-s', '-o', '/dev/null', '--max-time', '30', 'http://198.51.100.10/8mb.bin']);
    const hostMbit = (8 * 1024 * 1024 * 8) / ((Date.now() - t0) / 1000) / 1e6;
    console.log(`     sandbox ${mbit.toFixed(1)} Mbit/s, host ${hostMbit.toFixed(1)} Mbit/s`);
    assert.equal(host.status, 0);
    assert.equal(bytes, 8 * 1024 * 1024);
    assert.ok(mbit <= 20 * 1.25, `${mbit} Mbit/s is over the limit`);
    assert.ok(hostMbit > mbit * 2, 'the host is not limited');
  });

  await step('create({ networkBlockAll: true }) and outboundProxyUrl through the SDK', async () => {
    const blocked = await prepared(await daytona.create({ networkBlockAll: true, autoStopInterval: 0 }));
    try {
      assert.equal(blocked.networkBlockAll, true);
      assert.deepEqual(await probe(blocked, web), { 'web.test:80': 'noname', '198.51.100.10:80': 'closed' });
    } finally {
      await daytona.delete(blocked);
    }
    const proxied = await daytona.create({ outboundProxyUrl: 'http://proxy.test:3128', autoStopInterval: 0 });
    try {
      assert.equal(proxied.outboundProxyUrl, 'http://proxy.test:3128');
      const r = await proxied.process.executeCommand('echo "$HTTP_PROXY $https_proxy $NO_PROXY"');
      assert.equal(r.result.trim(), 'http://proxy.test:3128 http://proxy.test:3128 localhost,127.0.0.1');
    } finally {
      await daytona.delete(proxied);
    }
  });

  await step('bad settings get a 400 naming the entry, and nothing is appended', async () => {
    const audit = async () => (await api('GET', `/audit?resource=${a.id}&limit=1000`, apiKey)).json.items.length;
    const before = await audit();
    for (const [body, words] of [
      [{ networkAllowList: '10.0.0.0/8,github.com' }, "'github.com'"],
      [{ networkAllowList: '1.2.3.4' }, "'1.2.3.4' has no prefix"],
      [{ networkAllowList: '2001:db8::/32' }, 'IPv6'],
      [{ networkAllowList: Array.from({ length: 11 }, (_, i) => `10.${i}.0.0/16`).join(',') }, 'at most 10'],
      [{ domainAllowList: 'bad name.test' }, "'bad name.test'"],
      [{ networkDenyList: '999.1.1.1/8' }, "'999.1.1.1/8'"],
      [{}, 'at least one'],
      [{ outboundProxyUrl: 'http://x:1' }, 'set at create'],
    ]) {
      const r = await api('POST', `/sandbox/${a.id}/network-settings`, apiKey, body);
      assert.equal(r.status, 400, JSON.stringify(body));
      assert.ok(JSON.stringify(r.json).includes(words.replace(/'/g, "'")), `${JSON.stringify(r.json)} should name ${words}`);
    }
    const created = await api('POST', '/sandbox', apiKey, { networkAllowList: 'example.com' });
    assert.equal(created.status, 400);
    assert.equal(await audit(), before);
  });

  await step('who may: another organization, a revoked key and no key are refused', async () => {
    const other = await newOrganization('network-other');
    assert.equal((await api('POST', `/sandbox/${a.id}/network-settings`, other.apiKey, { networkBlockAll: true })).status, 404);
    assert.equal((await api('POST', `/sandbox/${a.id}/network-settings`, undefined, { networkBlockAll: true })).status, 401);
    const key = await api('POST', `/admin/organizations/${other.id}/api-keys`, adminKey, { name: 'soon-revoked' });
    assert.equal(key.status, 201);
    assert.equal((await api('DELETE', `/admin/organizations/${other.id}/api-keys/${key.json.keyId}`, adminKey)).status, 200);
    assert.equal((await api('POST', `/sandbox/${a.id}/network-settings`, key.json.apiKey, { networkBlockAll: true })).status, 401);
    assert.equal((await api('PUT', `/admin/organizations/${other.id}/network`, apiKey, { limit: null })).status, 401);
    assert.equal((await api('PUT', `/admin/organizations/${other.id}/network`, other.apiKey, { limit: null })).status, 401);
    assert.equal((await a.process.executeCommand('true')).exitCode, 0);
    const still = await api('GET', `/sandbox/${a.id}`, apiKey);
    assert.equal(still.json.networkBlockAll, false);
  });

  await step("an organization's defaults and limit (admin): its sandboxes cannot widen the limit", async () => {
    const org = await newOrganization('network-limited');
    const put = await api('PUT', `/admin/organizations/${org.id}/network`, adminKey,
      { limit: { networkAllowList: ['198.51.100.0/24'] } });
    assert.equal(put.status, 200, JSON.stringify(put.json));
    assert.deepEqual(put.json.limit.networkAllowList, ['198.51.100.0/24']);
    const bad = await api('PUT', `/admin/organizations/${org.id}/network`, adminKey, { limit: { networkAllowList: ['x'] } });
    assert.equal(bad.status, 400);
    const limited = new Daytona({ apiKey: org.apiKey, apiUrl, target: 'local' });
    const s = await prepared(await limited.create({ autoStopInterval: 0 }));
    try {
      assert.deepEqual(await probe(s, ['198.51.100.10:80', '203.0.113.10:80']), { '198.51.100.10:80': 'open', '203.0.113.10:80': 'closed' });
      await s.updateNetworkSettings({ networkAllowList: '203.0.113.0/24' });  // cannot widen
      await sleep(1000);
      assert.deepEqual(await probe(s, ['198.51.100.10:80', '203.0.113.10:80']), { '198.51.100.10:80': 'closed', '203.0.113.10:80': 'closed' });
      // The limit lifted: the sandbox's own policy alone.
      assert.equal((await api('PUT', `/admin/organizations/${org.id}/network`, adminKey,
        { defaults: { networkBlockAll: true } })).status, 200);
      await sleep(1000);
      assert.deepEqual(await probe(s, ['198.51.100.10:80', '203.0.113.10:80']), { '198.51.100.10:80': 'closed', '203.0.113.10:80': 'open' });
      const d = await limited.create({ autoStopInterval: 0 });
      assert.equal(d.networkBlockAll, true, 'the default applies to a new sandbox');
      await limited.delete(d);
    } finally {
      await limited.delete(s);
    }
  });

  await step('a runner killed and restarted leaves no stale veth, rule or address', async () => {
    await reopen(a);
    const c = await daytona.create({ autoStopInterval: 0 });
    const index = indexOf(c.id);
    const veth = `${tag()}x${index.toString(16)}`;
    assert.ok(linkExists(veth), `${veth} exists while the sandbox runs`);
    assert.match(nftTable(), new RegExp(`chain s${index} `));
    const pid = Number(fs.readFileSync(path.join(varDir, 'run/runner.pid'), 'utf8'));
    process.kill(pid, 'SIGKILL');
    await sleep(500);
    assert.equal((await api('DELETE', `/sandbox/${c.id}`, apiKey)).status, 200);
    const up = spawnSync(path.join(__dirname, '../../infra/up'), [], { encoding: 'utf8', timeout: 120000 });
    assert.equal(up.status, 0, up.stdout + up.stderr);
    for (let i = 0; i < 100 && (await api('GET', `/sandbox/${c.id}`, apiKey)).status !== 404; i++) await sleep(200);
    for (let i = 0; i < 50 && fs.existsSync(path.join(varDir, 'runner/net', c.id)); i++) await sleep(200);
    assert.ok(!linkExists(veth), `${veth} is gone`);
    assert.ok(!fs.existsSync(path.join(varDir, 'runner/net', c.id)), 'its address is free');
    assert.doesNotMatch(nftTable(), new RegExp(`chain s${index} `));
    assert.equal(execFileSync('ip', ['-o', 'link']).toString().split('\n').filter((l) => l.includes(`${tag()}x`)).length,
      fs.readdirSync(path.join(varDir, 'runner/net')).filter((f) => f.length === 36).length, 'one veth per sandbox with an address');
    // The sandbox that kept running kept its egress (its rules were made again).
    for (let i = 0; i < 50 && (await probe(a, web))['web.test:80'] !== 'open'; i++) await sleep(200);
    assert.deepEqual(await probe(a, web), { 'web.test:80': 'open', '198.51.100.10:80': 'open' });
  });

  await daytona.delete(a);
  finish();
}

main().catch((e) => {
  console.error(e);
  process.exitCode = 1;
});
