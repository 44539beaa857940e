// The `daytona` CLI against a stack the test started: login/logout (config file mode 0600, the
// DAYTONA_* variables overriding it), every command with its JSON or YAML parsed, and the exit
// codes scripts rely on (0 ok, 1 failed, 2 usage, 3 not found, 4 not logged in or refused,
// exec: the command's own). It runs as an organization of its own. Env: CLI, API_URL,
// ADMIN_API_KEY, SNAPSHOT_IMPORT_DIRS.
'use strict';
const assert = require('node:assert/strict');
const { spawnSync, execFileSync } = require('node:child_process');
const fs = require('node:fs');
const os = require('node:os');
const path = require('node:path');
const { step, finish } = require('./steps.cjs').steps('cli_e2e.cjs');

const { CLI: cli, API_URL: apiUrl } = process.env;
let apiKey;
const home = fs.mkdtempSync(path.join(os.tmpdir(), 'cli-e2e-'));
// The CLI sees only this HOME (its config dir, ssh's known hosts), never the machine's.
const baseEnv = { PATH: process.env.PATH, HOME: home, ASAN_OPTIONS: 'detect_leaks=0' };
const run = (args, { env = {}, input } = {}) => {
  const r = spawnSync(cli, args, { env: { ...baseEnv, ...env }, input, encoding: 'utf8', timeout: 180000 });
  return { code: r.status, out: r.stdout, err: r.stderr };
};
const json = (args) => {
  const r = run(['-f', 'json', ...args]);  // before any `--`
  assert.equal(r.code, 0, `${args.join(' ')}: ${r.err}`);
  return JSON.parse(r.out);
};

(async () => {
  const name = `cli-${Date.now()}`;
  apiKey = (await require('./stack.cjs').newOrganization(name)).apiKey;

  await step('not logged in: exit 4 with what to do', async () => {
    const r = run(['list']);
    assert.equal(r.code, 4);
    assert.match(r.err, /daytona login/);
  });

  await step('wrong usage: exit 2', async () => {
    assert.equal(run(['create', '--cpu', 'many']).code, 2);
    assert.equal(run(['no-such-command']).code, 2);
    assert.equal(run(['create', '--env', 'NOEQUALS']).code, 2);
  });

  await step('login keeps the URL and key (mode 0600); a wrong key is refused and not kept', async () => {
    const bad = run(['login', '--api-url', apiUrl, '--api-key', 'dtn_wrong']);
    assert.equal(bad.code, 4);
    assert.equal(fs.existsSync(path.join(home, '.config/daytona/config.json')), false);
    const r = run(['login', '--api-url', apiUrl, '--api-key', apiKey]);
    assert.equal(r.code, 0, r.err);
    const file = path.join(home, '.config/daytona/config.json');
    assert.equal(fs.statSync(file).mode & 0o777, 0o600);
    assert.deepEqual(JSON.parse(fs.readFileSync(file, 'utf8')), { apiUrl, apiKey });
    assert.match(run(['version']).out, new RegExp(apiUrl.replace(/[/.]/g, '\\$&')));
  });

  let id;
  await step('create with flags waits until started; list, info in json and yaml', async () => {
    const made = json(['create', '--name', name, '-e', 'GREETING=hi', '-l', 'suite=cli', '--auto-stop', '0']);
    assert.equal(made.state, 'started');
    assert.equal(made.name, name);
    assert.equal(made.labels.suite, 'cli');
    id = made.id;
    assert.ok(json(['list']).some((s) => s.id === id));
    assert.equal(json(['info', name]).id, id);
    const yaml = run(['info', id, '-f', 'yaml']);
    assert.equal(yaml.code, 0);
    assert.match(yaml.out, new RegExp(`id: "${id}"`));
    const table = run(['list']);
    assert.match(table.out.split('\n')[0], /^ID\s+NAME\s+STATE/);
  });

  await step('exec: output, env, cwd, and the command\'s exit code as ours', async () => {
    let r = run(['exec', id, '--', 'echo $GREETING; exit 3']);
    assert.equal(r.out, 'hi\n');
    assert.equal(r.code, 3);
    r = run(['exec', id, '--cwd', '/tmp', '--', 'pwd']);
    assert.equal(r.out, '/tmp\n');
    assert.equal(r.code, 0);
    assert.equal(json(['exec', id, '--', 'true']).exitCode, 0);
  });

  await step('preview-url', async () => {
    const p = json(['preview-url', id, '-p', '8080']);
    assert.match(p.url, new RegExp(`/preview/${id}/8080`));
    assert.ok(p.token.length > 10);
  });

  await step('ssh runs the ssh client with a new token', async () => {
    const r = run(['ssh', id], { input: 'echo via-cli-ssh\n' });
    assert.equal(r.code, 0, r.err);
    assert.match(r.out, /via-cli-ssh/);
  });

  await step('events: the stream\'s public events, as JSON', async () => {
    const r = run(['events', '--after', '0', '--count', '1', '-f', 'json', '--types', 'sandbox.created']);
    assert.equal(r.code, 0, r.err);
    const e = JSON.parse(r.out.trim().split('\n')[0]);
    assert.equal(e.type, 'sandbox.created');
    assert.equal(e.specversion, '1.0');
  });

  await step('audit: who made the sandbox', async () => {
    const items = json(['audit', '--resource', id, '--limit', '20']);
    assert.ok(items.length > 0);
    assert.ok(items.some((i) => JSON.stringify(i).includes('SandboxCreated')));
  });

  await step('stop, start, stop, archive', async () => {
    assert.equal(json(['stop', id]).state, 'stopped');
    assert.equal(json(['start', id]).state, 'started');
    assert.equal(json(['stop', id]).state, 'stopped');
    const r = run(['archive', id]);
    assert.equal(r.code, 0, r.err);
  });

  await step('volume create, get, list, delete', async () => {
    const v = json(['volume', 'create', `${name}-vol`]);
    assert.equal(v.name, `${name}-vol`);
    assert.equal(json(['volume', 'get', v.id]).id, v.id);
    assert.ok(json(['volume', 'list']).some((x) => x.id === v.id));
    assert.equal(run(['volume', 'delete', v.id]).code, 0);
  });

  await step('snapshot create from an OCI layout (progress quiet without a terminal), list, delete', async () => {
    const dir = fs.mkdtempSync(`${process.env.SNAPSHOT_IMPORT_DIRS}/image-`);
    execFileSync('python3', [`${__dirname}/../images/make_busybox_image.py`, dir]);
    const r = run(['snapshot', 'create', `${name}-snap`, '--image', `oci:${dir}/oci:latest`, '-f', 'json']);
    assert.equal(r.code, 0, r.err);
    assert.equal(r.err, '');  // no spinner when stderr is not a terminal
    const snap = JSON.parse(r.out);
    assert.equal(snap.state, 'active');
    assert.ok(json(['snapshot', 'list']).some((s) => s.name === `${name}-snap`));
    assert.equal(run(['snapshot', 'delete', snap.id]).code, 0);
  });

  await step('not found: exit 3 with the platform\'s message', async () => {
    const r = run(['info', 'no-such-sandbox']);
    assert.equal(r.code, 3);
    assert.match(r.err, /not found/i);
  });

  await step('delete, then delete --all', async () => {
    assert.equal(run(['delete', id]).code, 0);
    const other = json(['create', '--name', `${name}-2`]);
    const r = run(['delete', '--all']);
    assert.equal(r.code, 0, r.err);
    assert.match(r.out, new RegExp(other.id));
    assert.equal(run(['delete']).code, 2);  // neither one nor --all
  });

  await step('DAYTONA_API_KEY overrides the saved key; logout forgets it', async () => {
    assert.equal(run(['list'], { env: { DAYTONA_API_KEY: 'dtn_wrong' } }).code, 4);
    assert.equal(run(['logout']).code, 0);
    assert.equal(run(['list']).code, 4);
    assert.equal(run(['list'], { env: { DAYTONA_API_URL: apiUrl, DAYTONA_API_KEY: apiKey } }).code, 0);
  });

  await step('mcp config prints what an agent client needs to start the MCP server', async () => {
    const r = run(['mcp', 'config'], { env: { DAYTONA_API_URL: apiUrl } });
    assert.equal(r.code, 0, r.err);
    const server = JSON.parse(r.out).mcpServers.daytona;
    assert.deepEqual(server.args, ['mcp', 'start']);
    assert.ok(fs.existsSync(server.command));
    assert.equal(server.env.DAYTONA_API_URL, apiUrl);
  });

  await step('autocomplete prints a bash completion script', async () => {
    const r = run(['autocomplete']);
    assert.equal(r.code, 0);
    assert.match(r.out, /complete -F _daytona daytona/);
    assert.match(r.out, /create/);
  });

  fs.rmSync(home, { recursive: true, force: true });
  finish();
})();
