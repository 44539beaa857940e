// The real @daytonaio/sdk (0.218.0, from npm) against a stack the test started: every step of
// the compat spec §8, two sandboxes that cannot see each other's files, a preview URL serving a
// page from a server inside the sandbox, and a PTY echo. Each step checks the values returned.
// Env: API_URL, API_KEY. Exit code 0 only when every step passed.
'use strict';
const assert = require('node:assert/strict');
const sdk = require('@daytonaio/sdk');
const { Daytona, DaytonaNotFoundError, DaytonaTimeoutError, DaytonaError } = sdk;

const apiUrl = process.env.API_URL;
const apiKey = process.env.API_KEY;
const { step, finish } = require('./steps.cjs').steps('sdk_e2e.cjs');

async function rejects(promise, check) {
  try {
    await promise;
  } catch (e) {
    check(e);
    return e;
  }
  throw new Error('expected a rejection, got a value');
}

async function main() {
  assert.ok(apiUrl && apiKey, 'API_URL and API_KEY must be set');
  const daytona = new Daytona({ apiKey, apiUrl, target: 'local' });
  let sandbox;
  let other;

  await step('1 create (python, env, labels) reaches started', async () => {
    sandbox = await daytona.create({ language: 'python', envVars: { FOO: 'bar' }, labels: { suite: 'compat' }, autoStopInterval: 0 });
    assert.equal(sandbox.state, 'started');
    assert.match(sandbox.id, /^[0-9a-f-]{36}$/);
    assert.equal(sandbox.labels.suite, 'compat');
    assert.equal(sandbox.labels['code-toolbox-language'], 'python');
  });
  if (!sandbox) throw new Error('no sandbox: nothing else can run');

  await step('1b a create that fails rejects with the reason', async () => {
    await rejects(daytona.create({ snapshot: 'no-such-snapshot' }), (e) => {
      assert.ok(e instanceof DaytonaError);
      assert.match(e.message, /no-such-snapshot/);
    });
  });

  await step('2 home and work dir', async () => {
    assert.equal(await sandbox.getUserHomeDir(), '/home/daytona');
    assert.equal(await sandbox.getWorkDir(), '/home/daytona');
  });

  await step('3 executeCommand: output, exit code, stderr merged, env, timeout', async () => {
    const hi = await sandbox.process.executeCommand('echo hi');
    assert.equal(hi.exitCode, 0);
    assert.equal(hi.result, 'hi\n');
    assert.equal(hi.artifacts.stdout, 'hi\n');
    const err = await sandbox.process.executeCommand('echo err 1>&2; echo $A; exit 3', undefined, { A: 'b' }, 5);
    assert.equal(err.exitCode, 3);
    assert.match(err.result, /err/);
    assert.match(err.result, /^b$/m);
    assert.equal((await sandbox.process.executeCommand('echo $FOO')).result, 'bar\n');
    assert.equal((await sandbox.process.executeCommand('pwd', '/tmp')).result, '/tmp\n');
    await rejects(sandbox.process.executeCommand('sleep 3', undefined, undefined, 1), (e) => {
      assert.ok(e instanceof DaytonaTimeoutError, `a DaytonaTimeoutError, got ${e.constructor.name}`);
    });
  });

  await step('4 codeRun python', async () => {
    const r = await sandbox.process.codeRun('print(1+1)');
    assert.equal(r.exitCode, 0);
    assert.equal(r.result, '2\n');
    assert.equal(r.artifacts.stdout, '2\n');
    assert.deepEqual(r.artifacts.charts, []);
    const failed = await sandbox.process.codeRun('import sys; print("x"); sys.exit(4)');
    assert.equal(failed.exitCode, 4);
  });

  await step('code interpreter: state kept in a context, errors, timeout; updateEnv', async () => {
    const ci = sandbox.codeInterpreter;
    const first = await ci.runCode('x = 20\nprint("set")');
    assert.equal(first.stdout, 'set\n');
    const second = await ci.runCode('import sys\nprint(x + 22)\nprint("warn", file=sys.stderr)');
    assert.equal(second.stdout, '42\n');
    assert.equal(second.stderr, 'warn\n');
    const failed = await ci.runCode('1/0');
    assert.equal(failed.error.name, 'ZeroDivisionError');
    const ctx = await ci.createContext();
    assert.ok(ctx.id);
    assert.match((await ci.runCode('print("x" in globals())', { context: ctx })).stdout, /False/);
    assert.ok((await ci.listContexts()).some((c) => c.id === ctx.id));
    const slow = await ci.runCode('import time\ntime.sleep(5)', { context: ctx, timeout: 1 });
    assert.equal(slow.error.name, 'KeyboardInterrupt');
    await ci.deleteContext(ctx);
    assert.ok(!(await ci.listContexts()).some((c) => c.id === ctx.id));
    await sandbox.updateEnv({ ADDED: 'yes' });
    assert.equal((await sandbox.process.executeCommand('echo $ADDED')).result, 'yes\n');
  });

  await step('5 upload (chunked multipart), download, missing file is FILE_NOT_FOUND', async () => {
    await sandbox.fs.uploadFile(Buffer.from('hello file\n'), 'dir1/hello.txt');
    assert.equal((await sandbox.fs.downloadFile('dir1/hello.txt')).toString(), 'hello file\n');
    const big = Buffer.alloc(3 * 1024 * 1024, 'z');
    await sandbox.fs.uploadFile(big, '/tmp/big.bin');
    assert.equal((await sandbox.fs.downloadFile('/tmp/big.bin')).length, big.length);
    await rejects(sandbox.fs.downloadFile('nope.txt'), (e) => {
      assert.ok(e instanceof DaytonaNotFoundError, `a DaytonaNotFoundError, got ${e.constructor.name}`);
      assert.equal(e.statusCode, 404);
      assert.equal(e.code, 'FILE_NOT_FOUND');
    });
  });

  await step('6 listFiles, createFolder, details, move, delete', async () => {
    const files = await sandbox.fs.listFiles('dir1');
    const hello = files.find((f) => f.name === 'hello.txt');
    assert.ok(hello, 'hello.txt is listed');
    assert.equal(hello.isDir, false);
    assert.equal(hello.size, 11);
    await sandbox.fs.createFolder('dir2', '755');
    assert.equal((await sandbox.fs.getFileDetails('dir2')).isDir, true);
    await sandbox.fs.moveFiles('dir1/hello.txt', 'dir2/moved.txt');
    assert.equal((await sandbox.fs.downloadFile('dir2/moved.txt')).toString(), 'hello file\n');
    await sandbox.fs.deleteFile('dir2', true);
    await rejects(sandbox.fs.getFileDetails('dir2'), (e) => assert.ok(e instanceof DaytonaNotFoundError));
  });

  await step('7 sessions: create, exec, logs, state kept, async, delete', async () => {
    await sandbox.process.createSession('s1');
    const r = await sandbox.process.executeSessionCommand('s1', { command: 'echo sess' });
    assert.equal(r.exitCode, 0);
    assert.equal(r.stdout, 'sess\n');
    assert.equal(r.stderr, '');
    const logs = await sandbox.process.getSessionCommandLogs('s1', r.cmdId);
    assert.equal(logs.stdout, 'sess\n');
    await sandbox.process.executeSessionCommand('s1', { command: 'cd /tmp && export KEPT=yes' });
    assert.equal((await sandbox.process.executeSessionCommand('s1', { command: 'echo $(pwd) $KEPT' })).stdout, '/tmp yes\n');
    const bg = await sandbox.process.executeSessionCommand('s1', { command: 'echo out; echo err >&2; sleep 1; echo done', runAsync: true });
    assert.ok(bg.cmdId);
    let streamed = { out: '', err: '' };
    await sandbox.process.getSessionCommandLogs('s1', bg.cmdId, (s) => (streamed.out += s), (s) => (streamed.err += s));
    assert.equal(streamed.out, 'out\ndone\n');
    assert.equal(streamed.err, 'err\n');
    const cmd = await sandbox.process.getSessionCommand('s1', bg.cmdId);
    assert.equal(cmd.exitCode, 0);
    const session = await sandbox.process.getSession('s1');
    assert.equal(session.sessionId, 's1');
    assert.equal(session.commands.length, 4);
    assert.ok((await sandbox.process.listSessions()).some((s) => s.sessionId === 's1'));
    await sandbox.process.deleteSession('s1');
    await rejects(sandbox.process.getSession('s1'), (e) => assert.ok(e instanceof DaytonaNotFoundError));
  });

  await step('8 git: clone a repo made inside the sandbox, status, branches', async () => {
    const init = await sandbox.process.executeCommand(
      'git init -q -b main /tmp/src && git -C /tmp/src -c user.email=a@b -c user.name=a commit -q --allow-empty -m init');
    assert.equal(init.exitCode, 0, init.result);
    await sandbox.git.clone('file:///tmp/src', 'repo');
    const status = await sandbox.git.status('repo');
    assert.equal(status.currentBranch, 'main');
    const branches = await sandbox.git.branches('repo');
    assert.ok(branches.branches.includes('main'));
    await sandbox.fs.uploadFile(Buffer.from('x\n'), 'repo/new.txt');
    await sandbox.git.add('repo', ['new.txt']);
    const commit = await sandbox.git.commit('repo', 'add new.txt', 'Tester', 'tester@example.com');
    assert.match(commit.sha, /^[0-9a-f]{40}$/);
    await sandbox.git.createBranch('repo', 'feature');
    await sandbox.git.checkoutBranch('repo', 'feature');
    assert.equal((await sandbox.git.status('repo')).currentBranch, 'feature');
    await rejects(sandbox.git.clone('file:///nowhere/repo', 'repo2'), (e) => assert.ok(e instanceof DaytonaError));
  });

  await step('9 preview link serves a page from inside; labels; autostop; get; list', async () => {
    const started = await sandbox.process.executeCommand(
      'mkdir -p /tmp/site && echo "hello from the sandbox" > /tmp/site/index.html && ' +
      '(cd /tmp/site && nohup python3 -m http.server 8080 --bind 127.0.0.1 >/dev/null 2>&1 &) && sleep 1');
    assert.equal(started.exitCode, 0);
    const link = await sandbox.getPreviewLink(8080);
    assert.equal(link.sandboxId, sandbox.id);
    assert.ok(link.token);
    let page;
    for (let i = 0; i < 50; i++) {
      page = await fetch(link.url + '/index.html', { headers: { 'x-daytona-preview-token': link.token } });
      if (page.status === 200) break;
      await new Promise((r) => setTimeout(r, 100));
    }
    assert.equal(page.status, 200);
    assert.equal(await page.text(), 'hello from the sandbox\n');
    assert.equal((await fetch(link.url + '/index.html')).status, 401);  // private: no token, no page
    assert.deepEqual(await sandbox.setLabels({ a: 'b' }), { a: 'b' });
    await sandbox.setAutostopInterval(30);
    await sandbox.refreshData();
    assert.equal(sandbox.autoStopInterval, 30);
    const again = await daytona.get(sandbox.id);
    assert.equal(again.state, 'started');
    const listed = [];
    for await (const s of daytona.list({ labels: { a: 'b' } })) listed.push(s.id);
    assert.ok(listed.includes(sandbox.id));
  });

  await step('PTY: create, echo, exit code', async () => {
    let output = '';
    const pty = await sandbox.process.createPty({ id: 'pty1', cols: 100, rows: 30, onData: (d) => (output += Buffer.from(d).toString()) });
    await pty.sendInput('echo pty-$((6*7))\n');
    for (let i = 0; i < 50 && !output.includes('pty-42'); i++) await new Promise((r) => setTimeout(r, 100));
    assert.match(output, /pty-42/);
    await pty.resize(120, 40);
    await pty.sendInput('exit 5\n');
    const result = await pty.wait();
    assert.equal(result.exitCode, 5);
    await pty.disconnect();
  });

  await step('two sandboxes do not see each other\'s files', async () => {
    other = await daytona.create({ language: 'python' });
    await sandbox.fs.uploadFile(Buffer.from('mine\n'), '/home/daytona/secret.txt');
    await rejects(other.fs.downloadFile('/home/daytona/secret.txt'), (e) => assert.ok(e instanceof DaytonaNotFoundError));
    const look = await other.process.executeCommand('ls /home/daytona; cat /home/daytona/secret.txt');
    assert.notEqual(look.exitCode, 0);
    assert.doesNotMatch(look.result, /mine/);
  });

  await step('the proxy: a revoked key stops working within a second; a public sandbox previews without a token', async () => {
    const admin = { Authorization: `Bearer ${process.env.ADMIN_API_KEY}`, 'Content-Type': 'application/json' };
    const orgId = sandbox.organizationId;
    const made = await (await fetch(`${apiUrl}/admin/organizations/${orgId}/api-keys`, { method: 'POST', headers: admin, body: '{"name":"e2e"}' })).json();
    const second = new Daytona({ apiKey: made.apiKey, apiUrl, target: 'local' });
    const mine = await second.get(sandbox.id);
    assert.equal((await mine.process.executeCommand('echo via-second-key')).result, 'via-second-key\n');
    const revoked = await fetch(`${apiUrl}/admin/organizations/${orgId}/api-keys/${made.keyId}`, { method: 'DELETE', headers: admin });
    assert.equal(revoked.status, 200);
    const t0 = Date.now();
    let refusedAfter = -1;
    while (Date.now() - t0 < 10000) {
      try {
        await mine.process.executeCommand('true');
      } catch (e) {
        assert.equal(e.statusCode, 401, `${e.constructor.name}: ${e.message}`);
        refusedAfter = Date.now() - t0;
        break;
      }
      await new Promise((r) => setTimeout(r, 50));
    }
    // The API is told through the log at once; the proxy keeps a key's answer for 500 ms.
    assert.ok(refusedAfter >= 0 && refusedAfter <= 1000, `refused after ${refusedAfter} ms`);
    await second[Symbol.asyncDispose]?.();
    const open = await daytona.create({ language: 'python', public: true });
    await open.process.executeCommand('mkdir -p /tmp/pub && echo public-page > /tmp/pub/index.html && ' +
      '(cd /tmp/pub && nohup python3 -m http.server 8081 --bind 127.0.0.1 >/dev/null 2>&1 &) && sleep 1');
    const link = await open.getPreviewLink(8081);
    let page;
    for (let i = 0; i < 50; i++) {
      page = await fetch(link.url + '/index.html');
      if (page.status === 200) break;
      await new Promise((r) => setTimeout(r, 100));
    }
    assert.equal(page.status, 200);
    assert.equal(await page.text(), 'public-page\n');
    await open.delete();
  });

  await step('10 stop (the toolbox then says so at once), start, files survive, toolbox works again', async () => {
    await sandbox.stop();
    assert.equal(sandbox.state, 'stopped');
    const t0 = Date.now();
    await rejects(sandbox.process.executeCommand('echo hi'), (e) => {
      assert.equal(e.statusCode, 409, `${e.constructor.name}: ${e.message}`);
      assert.match(e.message, /stopped/);
    });
    assert.ok(Date.now() - t0 < 3000);
    await sandbox.start();
    assert.equal(sandbox.state, 'started');
    assert.equal((await sandbox.process.executeCommand('echo hi')).result, 'hi\n');
    assert.equal((await sandbox.fs.downloadFile('/home/daytona/secret.txt')).toString(), 'mine\n');
  });

  await step('11 volumes and a snapshot list', async () => {
    const name = `vol-e2e-${Date.now()}`;
    const volume = await daytona.volume.create(name);
    assert.equal(volume.name, name);
    assert.equal((await daytona.volume.get(name)).id, volume.id);
    assert.ok((await daytona.volume.list()).some((v) => v.id === volume.id));
    await daytona.volume.delete(volume);
    const snapshots = await daytona.snapshot.list();
    assert.ok(Array.isArray(snapshots.items));
    assert.equal(typeof snapshots.total, 'number');
    // The default snapshot every create uses is listed, and found by name.
    assert.ok(snapshots.items.some((s) => s.name === 'default' && s.state === 'active'));
    assert.equal((await daytona.snapshot.get('default')).general, true);
  });

  await step('11b a snapshot from an image (busybox-static, OCI layout), a sandbox from it, its toolbox', async () => {
    // Inside the directory the operator allows (SNAPSHOT_IMPORT_DIRS): no other host path is read.
    const dir = require('node:fs').mkdtempSync(`${process.env.SNAPSHOT_IMPORT_DIRS}/image-`);
    require('node:child_process').execFileSync('python3', [`${__dirname}/../images/make_busybox_image.py`, dir]);
    const name = `busybox-${Date.now()}`;
    const snap = await daytona.snapshot.create({ name, image: `oci:${dir}/oci:latest` });
    assert.equal(snap.state, 'active');
    const bb = await daytona.create({ snapshot: name });
    assert.equal(bb.state, 'started');
    assert.equal((await bb.process.executeCommand('cat /etc/greeting')).result, 'hello from the image\n');
    assert.equal(await bb.getWorkDir(), '/opt');
    assert.notEqual((await bb.process.executeCommand('test -e /usr/bin/python3')).exitCode, 0);
    await bb.delete();
    await daytona.snapshot.delete(snap);
    require('node:fs').rmSync(dir, { recursive: true, force: true });
  });

  await step('warm pool: a create claims a started sandbox, answers started, the first command sees its env', async () => {
    const admin = { Authorization: `Bearer ${process.env.ADMIN_API_KEY}`, 'Content-Type': 'application/json' };
    const size = (n) => fetch(`${apiUrl}/admin/warm-pools`, { method: 'PUT', headers: admin,
      body: JSON.stringify({ snapshot: 'default', cpu: 1, memory: 1, disk: 3, size: n }) });
    const stranger = await (await fetch(`${apiUrl}/admin/organizations`, { method: 'POST', headers: admin,
      body: JSON.stringify({ name: 'e2e-warm-stranger' }) })).json();
    const toolbox = (key, id) => fetch(`${process.env.PROXY_URL}/toolbox/${id}/process/execute`, {
      method: 'POST', body: JSON.stringify({ command: 'echo $CLAIMED_BY' }),
      headers: { 'Content-Type': 'application/json', ...(key === undefined ? {} : { Authorization: `Bearer ${key}` }) } });
    // Before the pool exists, a create is cold. It hands the proxy the placement and the creator's
    // key once it has started (command-service app/started_placements.hpp): right after it,
    // another organization's key, a wrong key and no key are refused as ever.
    const cold = await daytona.create({ language: 'python', envVars: { CLAIMED_BY: 'cold' } });
    assert.equal(cold.state, 'started');
    assert.equal((await toolbox(stranger.apiKey, cold.id)).status, 404);
    assert.equal((await toolbox('not-a-key', cold.id)).status, 401);
    assert.equal((await toolbox(undefined, cold.id)).status, 401);
    assert.equal((await cold.process.executeCommand('echo $CLAIMED_BY')).result, 'cold\n');
    const coldEvents = await (await fetch(`${apiUrl}/audit?resource=${cold.id}`, { headers: { Authorization: `Bearer ${apiKey}` } })).json();
    assert.ok(!JSON.stringify(coldEvents).includes('SandboxClaimed'), 'the cold create claimed a pool member');
    await cold.delete();
    assert.equal((await size(1)).status, 200);
    const filled = async () => {
      const deadline = Date.now() + 60000;
      for (;;) {
        const { items } = await (await fetch(`${apiUrl}/admin/warm-pools`, { headers: admin })).json();
        if (items.some((p) => p.ready === 1)) break;
        assert.ok(Date.now() < deadline, 'the pool did not fill within 60 s');
        await new Promise((r) => setTimeout(r, 100));
      }
    };
    await filled();
    const t0 = Date.now();
    const warm = await daytona.create({ language: 'python', envVars: { CLAIMED_BY: 'e2e' }, labels: { pool: 'yes' } });
    const createdIn = Date.now() - t0;
    assert.equal(warm.state, 'started');
    // The claim handed the proxy the sandbox's placement, the claiming key and a connection into
    // it (edge-proxy README): right after it, another organization's key, a wrong key and no key
    // are refused as ever, and the claimer's first command still answers.
    assert.equal((await toolbox(stranger.apiKey, warm.id)).status, 404);
    assert.equal((await toolbox('not-a-key', warm.id)).status, 401);
    assert.equal((await toolbox(undefined, warm.id)).status, 401);
    const t1 = Date.now();
    assert.equal((await warm.process.executeCommand('echo $CLAIMED_BY')).result, 'e2e\n');
    const claimedIn = createdIn + (Date.now() - t1);
    assert.equal(warm.labels.pool, 'yes');
    const events = await (await fetch(`${apiUrl}/audit?resource=${warm.id}`, { headers: { Authorization: `Bearer ${apiKey}` } })).json();
    assert.ok(JSON.stringify(events).includes('SandboxClaimed'), 'no SandboxClaimed in the audit log');
    // The proxy's spare connection into a claimed sandbox is not used once it has closed: claim
    // another, stop and start it before any command (the daemon the spare reached is gone), then
    // its first command still answers.
    await filled();
    const restarted = await daytona.create({ language: 'python' });
    assert.equal(restarted.state, 'started');
    await restarted.stop();
    await restarted.start();
    assert.equal((await restarted.process.executeCommand('echo after-restart')).result, 'after-restart\n');
    await restarted.delete();
    assert.equal((await size(0)).status, 200);
    await warm.delete();
    console.log(`     (claimed, first command answered in ${claimedIn} ms)`);
  });

  await step('12 delete; get is then DaytonaNotFoundError', async () => {
    for (const s of [sandbox, other].filter(Boolean)) {
      const id = s.id;
      await s.delete();
      await rejects(daytona.get(id), (e) => assert.ok(e instanceof DaytonaNotFoundError, e.constructor.name));
    }
  });

  await daytona[Symbol.asyncDispose]?.();
  finish();
  process.exit(process.exitCode);
}

main().catch((e) => {
  console.log(`FAIL ${e && e.stack ? e.stack : e}`);
  process.exit(1);
});
