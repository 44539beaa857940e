// The top README's examples, run as written: its first ```js block (the Daytona SDK) with node,
// its first ```sh block (curl and ssh) and its first ```bash block (the CLI) with bash, against
// the stack the test started; each must print what its comments say. Env: the stack's variables
// (API_URL, PROXY_URL, SSH_HOST, SSH_PORT, CLI, ADMIN_API_KEY) and NODE_PATH with the SDK; API_KEY
// is a fresh organization's, so the examples run on their own rate limits.
'use strict';
const assert = require('node:assert/strict');
const { spawnSync } = require('node:child_process');
const fs = require('node:fs');
const os = require('node:os');
const path = require('node:path');
const { step, finish } = require('./steps.cjs').steps('readme_e2e.cjs');

const readme = fs.readFileSync(path.join(__dirname, '..', '..', 'README.md'), 'utf8');
const block = (lang) => {
  const found = readme.match(new RegExp('```' + lang + '\\n([\\s\\S]*?)```'));
  assert.ok(found, `the README has a ${lang} block`);
  return found[1];
};
const work = fs.mkdtempSync(path.join(os.tmpdir(), 'readme-e2e-'));
// ssh must not ask (or remember) anything of a host key made by this test's own stack.
const sshConfig = path.join(work, 'ssh_config');
fs.writeFileSync(sshConfig, 'Host *\n  UserKnownHostsFile /dev/null\n');  // its warnings stay on stderr

(async () => {
  process.env.API_KEY = (await require('./stack.cjs').newOrganization(`readme-${Date.now()}`)).apiKey;
  await step('the SDK example prints hello from Linux', async () => {
    const file = path.join(work, 'example.cjs');
    fs.writeFileSync(file, block('js'));
    const r = spawnSync('node', [file], { encoding: 'utf8', timeout: 120000 });
    assert.equal(r.status, 0, r.stderr);
    assert.equal(r.stdout.trim(), 'hello from Linux');
  });
  await step('the curl and ssh example runs: hello from Linux, then Linux over SSH', async () => {
    const bin = path.join(work, 'bin');
    fs.mkdirSync(bin);
    // `ssh` as the reader types it, with the test's config (no known-hosts file touched).
    fs.writeFileSync(path.join(bin, 'ssh'), `#!/bin/sh\nexec /usr/bin/ssh -F ${sshConfig} "$@"\n`, { mode: 0o755 });
    const r = spawnSync('bash', ['-euo', 'pipefail', '-c', block('sh')], {
      encoding: 'utf8', timeout: 120000, env: { ...process.env, PATH: `${bin}:${process.env.PATH}` },
    });
    assert.equal(r.status, 0, `status ${r.status}, out ${JSON.stringify(r.stdout)}, err ${JSON.stringify(r.stderr)}`);
    assert.equal(r.stdout, 'hello from Linux\nLinux\n');
  });
  await step('the CLI example: login, create, hello from Linux, deleted', async () => {
    const r = spawnSync('bash', ['-euo', 'pipefail', '-c', block('bash')], {
      encoding: 'utf8', timeout: 120000, env: { ...process.env, HOME: work, ASAN_OPTIONS: 'detect_leaks=0' },
    });
    assert.equal(r.status, 0, r.stderr);
    assert.match(r.stdout, /^logged in to \S+ \(saved in \S+\)\nhello from Linux\ndeleted [0-9a-f-]{36}\n$/);
  });
  fs.rmSync(work, { recursive: true, force: true });
  finish();
})();
