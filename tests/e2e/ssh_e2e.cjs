// SSH into sandboxes with the stock OpenSSH client through the platform's SSH gateway, tokens
// from the real @daytonaio/sdk (createSshAccess / revokeSshAccess / validateSshAccess): exec
// with exit codes and both output streams, stdin to end, an interactive session driven through
// a terminal (script) and resized (window-change), sftp and scp round trips of a binary file, ssh -L to a server in the
// sandbox (and never to its toolbox port), a revoked token and a stopped sandbox refused with a
// message, a token that opens only its own organization's sandbox, and failed logins throttled.
// Env: API_URL, API_KEY, ADMIN_API_KEY, SSH_HOST, SSH_PORT. Exit 0 only when every step passed.
'use strict';
const assert = require('node:assert/strict');
const { spawnSync, spawn } = require('node:child_process');
const crypto = require('node:crypto');
const fs = require('node:fs');
const http = require('node:http');
const net = require('node:net');
const os = require('node:os');
const path = require('node:path');
const { Daytona } = require('@daytonaio/sdk');

const { API_URL: apiUrl, API_KEY: apiKey, ADMIN_API_KEY: adminKey, SSH_HOST: host, SSH_PORT: port } = process.env;
const work = fs.mkdtempSync(path.join(os.tmpdir(), 'ssh-e2e-'));
const { step, finish } = require('./steps.cjs').steps('ssh_e2e.cjs');

const options = ['-o', 'StrictHostKeyChecking=no', '-o', 'UserKnownHostsFile=/dev/null', '-o', 'LogLevel=ERROR',
  '-o', 'BatchMode=yes', '-o', 'ConnectTimeout=10'];
const ssh = (token, args, input, timeout = 60000) =>
  spawnSync('ssh', ['-p', port, ...options, `${token}@${host}`, ...args], { input, timeout, encoding: 'buffer' });
const text = (b) => (b ? b.toString() : '');

async function freePort() {
  return new Promise((resolve) => {
    const s = net.createServer().listen(0, '127.0.0.1', () => {
      const p = s.address().port;
      s.close(() => resolve(p));
    });
  });
}

function get(url) {
  return new Promise((resolve, reject) => {
    const req = http.get(url, (res) => {
      let body = '';
      res.on('data', (c) => (body += c));
      res.on('end', () => resolve({ status: res.statusCode, body }));
    });
    req.on('error', reject);
    req.setTimeout(5000, () => req.destroy(new Error('timed out')));
  });
}

async function untilOk(fn, ms) {
  const until = Date.now() + ms;
  for (;;) {
    try {
      return await fn();
    } catch (e) {
      if (Date.now() > until) throw e;
      await new Promise((r) => setTimeout(r, 200));
    }
  }
}

async function main() {
  assert.ok(apiUrl && apiKey && adminKey && host && port, 'API_URL, API_KEY, ADMIN_API_KEY, SSH_HOST, SSH_PORT must be set');
  const daytona = new Daytona({ apiKey, apiUrl, target: 'local' });
  const sandbox = await daytona.create({ autoStopInterval: 0 });
  let token;

  await step('createSshAccess gives a token and the command to use it', async () => {
    const access = await sandbox.createSshAccess(30);
    token = access.token;
    assert.match(token, /^[A-Za-z0-9]{32}$/);
    assert.equal(access.sshCommand, `ssh -p ${port} ${token}@${host}`);
    const validated = await sandbox.validateSshAccess(token);
    assert.equal(validated.valid, true);
    assert.equal(validated.sandboxId, sandbox.id);
  });
  if (!token) throw new Error('no token: nothing else can run');

  await step('exec: output, stderr and the exit code', async () => {
    const r = ssh(token, ['echo out; echo err >&2; exit 7']);
    assert.equal(text(r.stdout), 'out\n', text(r.stderr));
    assert.equal(text(r.stderr), 'err\n', `exit status ${r.status}`);
    assert.equal(r.status, 7);
  });

  await step('exec: the environment the client sends (SendEnv)', async () => {
    const r = spawnSync('ssh', ['-p', port, ...options, '-o', 'SendEnv=E2E_GREETING', `${token}@${host}`, 'echo "$E2E_GREETING"'],
      { env: { ...process.env, E2E_GREETING: 'hello-env' }, timeout: 60000, encoding: 'buffer' });
    assert.equal(text(r.stdout), 'hello-env\n', text(r.stderr));
  });

  await step('exec: stdin to its end, binary intact', async () => {
    const data = crypto.randomBytes(300000);
    const r = ssh(token, ['sha256sum'], data);
    assert.equal(r.status, 0, text(r.stderr));
    assert.equal(text(r.stdout).split(' ')[0], crypto.createHash('sha256').update(data).digest('hex'));
  });

  await step('exec: a command killed by a signal says so', async () => {
    const r = ssh(token, ['kill -TERM $$']);
    assert.equal(r.status, 255, text(r.stderr));  // OpenSSH's code for a remote end killed by a signal
  });

  await step('interactive: a shell in a terminal, driven through script', async () => {
    const r = spawnSync('script', ['-qec', `ssh -tt -p ${port} ${options.join(' ')} ${token}@${host}`, '/dev/null'], {
      input: 'tty; echo "term=$TERM"; stty size; exit 5\n',
      timeout: 60000,
    });
    const out = text(r.stdout);
    assert.match(out, /\/dev\/pts\/\d+/);
    assert.match(out, /term=\S+/);
    assert.match(out, /\d+ \d+/);
    assert.equal(r.status, 5, out);
  });

  await step('window-change: a resized terminal reaches the shell', async () => {
    const r = spawnSync('python3', [path.join(__dirname, 'ssh_resize.py'), '-p', port, ...options, `${token}@${host}`],
      { timeout: 60000, encoding: 'utf8' });
    assert.match(r.stdout, /size-24x80-one/, `status ${r.status}, out ${JSON.stringify(r.stdout)}, err ${JSON.stringify(r.stderr)}`);
    assert.match(r.stdout, /size-40x100-two/, r.stdout);
  });

  const local = path.join(work, 'blob.bin');
  const back = path.join(work, 'back.bin');
  fs.writeFileSync(local, crypto.randomBytes(1 << 20));

  await step('sftp: put and get a binary file', async () => {
    fs.writeFileSync(path.join(work, 'batch'), `put ${local} /tmp/blob.bin\nget /tmp/blob.bin ${back}\n`);
    const r = spawnSync('sftp', ['-P', port, ...options, '-b', path.join(work, 'batch'), `${token}@${host}`], { timeout: 60000 });
    assert.equal(r.status, 0, text(r.stderr) + text(r.stdout));
    assert.ok(fs.readFileSync(back).equals(fs.readFileSync(local)));
  });

  await step('scp: there and back', async () => {
    fs.rmSync(back, { force: true });
    let r = spawnSync('scp', ['-P', port, ...options, local, `${token}@${host}:/tmp/scp.bin`], { timeout: 60000 });
    assert.equal(r.status, 0, text(r.stderr));
    r = spawnSync('scp', ['-P', port, ...options, `${token}@${host}:/tmp/scp.bin`, back], { timeout: 60000 });
    assert.equal(r.status, 0, text(r.stderr));
    assert.ok(fs.readFileSync(back).equals(fs.readFileSync(local)));
  });

  await step('ssh -L: a server in the sandbox, reached from here', async () => {
    await sandbox.process.executeCommand('mkdir -p /tmp/site && echo forwarded-page > /tmp/site/index.html');
    await sandbox.process.executeCommand('nohup python3 -m http.server 8123 --directory /tmp/site >/dev/null 2>&1 &');
    const localPort = await freePort();
    const tunnel = spawn('ssh', ['-N', '-p', port, ...options, '-L', `${localPort}:localhost:8123`, `${token}@${host}`]);
    try {
      const page = await untilOk(async () => {
        const r = await get(`http://127.0.0.1:${localPort}/index.html`);
        if (r.status !== 200) throw new Error('status ' + r.status);
        return r;
      }, 20000);
      assert.equal(page.body, 'forwarded-page\n');
    } finally {
      tunnel.kill();
    }
  });

  await step('ssh -L to the toolbox port is refused', async () => {
    const localPort = await freePort();
    const tunnel = spawn('ssh', ['-N', '-p', port, ...options, '-L', `${localPort}:localhost:2280`, `${token}@${host}`]);
    try {
      await untilOk(() => new Promise((resolve, reject) => {
        const s = net.connect(localPort, '127.0.0.1', () => { s.destroy(); resolve(); });
        s.on('error', reject);
      }), 10000);
      await assert.rejects(get(`http://127.0.0.1:${localPort}/version`));
    } finally {
      tunnel.kill();
    }
  });

  await step('a token opens only its own sandbox, not another organization\'s', async () => {
    const { apiKey: otherKey } = await require('./stack.cjs').newOrganization('other');
    const other = new Daytona({ apiKey: otherKey, apiUrl, target: 'local' });
    const theirs = await other.create({ autoStopInterval: 0 });
    try {
      await theirs.process.executeCommand('echo b > /tmp/marker-b');
      await sandbox.process.executeCommand('echo a > /tmp/marker-a');
      const r = ssh(token, ['cat /tmp/marker-a; test -e /tmp/marker-b && echo found-b || echo no-b']);
      assert.equal(text(r.stdout), 'a\nno-b\n', text(r.stderr));
      const seen = await theirs.validateSshAccess(token);
      assert.equal(seen.valid, false);
    } finally {
      await theirs.delete();
    }
  });

  await step('a revoked token gets no new session', async () => {
    const old = token;
    token = (await sandbox.createSshAccess(30)).token;  // revokes the old one
    await sandbox.revokeSshAccess(token);
    await new Promise((r) => setTimeout(r, 6000));  // past the gateway's cache
    for (const t of [old, token]) {
      const r = ssh(t, ['true']);
      assert.equal(r.status, 255);
      assert.match(text(r.stderr), /Permission denied/);
    }
  });

  await step('a stopped sandbox: a message and a non-zero exit, no hang', async () => {
    token = (await sandbox.createSshAccess(30)).token;
    await sandbox.stop();
    await new Promise((r) => setTimeout(r, 6000));
    const started = Date.now();
    const r = ssh(token, ['true'], undefined, 30000);
    assert.ok(Date.now() - started < 25000, 'it hung');
    assert.equal(r.status, 1, text(r.stderr));
    assert.match(text(r.stderr), /stopped|not started|not running/);
  });

  await step('failed logins are throttled per source address', async () => {
    for (let i = 0; i < 11; i++) ssh('x'.repeat(32), ['true'], undefined, 15000);
    await sandbox.start();
    const valid = (await sandbox.createSshAccess(30)).token;
    const r = ssh(valid, ['true']);
    assert.equal(r.status, 255, 'a throttled source is refused even with a valid token');
  });

  await sandbox.delete();
  fs.rmSync(work, { recursive: true, force: true });
  finish();
}

main().catch((e) => {
  console.log('FAIL', e && e.stack);
  process.exitCode = 1;
});
