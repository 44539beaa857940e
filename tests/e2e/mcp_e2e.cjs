// `daytona mcp start` driven over stdio by the official MCP client (@modelcontextprotocol/sdk):
// the twelve tools listed with their schemas, then create → execute → files (text and binary,
// folders, info, list, move, delete) → git clone → preview link → destroy; the platform's
// refusals as tool errors with its message, a missing argument or unknown tool as MCP errors.
// It runs as an organization of its own. Env: CLI, API_URL, ADMIN_API_KEY.
'use strict';
const assert = require('node:assert/strict');
const crypto = require('node:crypto');
const { Client } = require('@modelcontextprotocol/sdk/client/index.js');
const { StdioClientTransport } = require('@modelcontextprotocol/sdk/client/stdio.js');
const { step, finish } = require('./steps.cjs').steps('mcp_e2e.cjs');

const { CLI: cli, API_URL: apiUrl } = process.env;
const kTools = ['create_sandbox', 'destroy_sandbox', 'execute_command', 'file_upload', 'file_download', 'create_folder',
  'get_file_info', 'list_files', 'move_file', 'delete_file', 'git_clone', 'preview_link'];

(async () => {
  const { apiKey } = await require('./stack.cjs').newOrganization(`mcp-${Date.now()}`);
  const transport = new StdioClientTransport({
    command: cli, args: ['mcp', 'start'],
    env: { PATH: process.env.PATH, HOME: '/nonexistent', DAYTONA_API_URL: apiUrl, DAYTONA_API_KEY: apiKey, ASAN_OPTIONS: 'detect_leaks=0' },
  });
  const client = new Client({ name: 'mcp-e2e', version: '1.0.0' });
  await client.connect(transport);
  const call = async (name, args) => client.callTool({ name, arguments: args });
  const textOf = (r) => r.content.map((c) => c.text).join('');
  let id;

  await step('the twelve tools, each with a JSON schema', async () => {
    const { tools } = await client.listTools();
    assert.deepEqual(tools.map((t) => t.name).sort(), [...kTools].sort());
    for (const t of tools) {
      assert.equal(t.inputSchema.type, 'object');
      assert.ok(t.description.length > 0);
    }
    assert.deepEqual(tools.find((t) => t.name === 'execute_command').inputSchema.required, ['id', 'command']);
  });

  await step('create_sandbox, execute_command', async () => {
    const made = await call('create_sandbox', { auto_stop_interval: 0 });
    assert.equal(made.isError, false, textOf(made));
    id = JSON.parse(textOf(made)).id;
    const ran = await call('execute_command', { id, command: 'echo hello from $(uname -s)' });
    assert.equal(ran.isError, false);
    assert.equal(JSON.parse(textOf(ran)).result, 'hello from Linux\n');
    const failed = await call('execute_command', { id, command: 'exit 4' });
    assert.equal(failed.isError, true);
    assert.equal(JSON.parse(textOf(failed)).exitCode, 4);
  });

  await step('file_upload and file_download, text and binary; no overwrite unless asked', async () => {
    let r = await call('file_upload', { id, file_path: '/tmp/mcp/notes.txt', content: 'line one\nline two\n' });
    assert.equal(r.isError, false, textOf(r));
    assert.equal(textOf(await call('file_download', { id, file_path: '/tmp/mcp/notes.txt' })), 'line one\nline two\n');
    r = await call('file_upload', { id, file_path: '/tmp/mcp/notes.txt', content: 'again' });
    assert.equal(r.isError, true);
    assert.match(textOf(r), /exists/);
    const bytes = crypto.randomBytes(50000);
    bytes[0] = 0;  // surely binary
    r = await call('file_upload', { id, file_path: '/tmp/mcp/blob.bin', content: bytes.toString('base64'), encoding: 'base64' });
    assert.equal(r.isError, false, textOf(r));
    const back = textOf(await call('file_download', { id, file_path: '/tmp/mcp/blob.bin' }));
    assert.ok(back.startsWith('base64:'));
    assert.ok(Buffer.from(back.slice(7), 'base64').equals(bytes));
  });

  await step('create_folder, get_file_info, list_files, move_file, delete_file', async () => {
    assert.equal((await call('create_folder', { id, folder_path: '/tmp/mcp/sub/deeper' })).isError, false);
    const info = JSON.parse(textOf(await call('get_file_info', { id, file_path: '/tmp/mcp/notes.txt' })));
    assert.equal(info.size, 18);
    assert.equal(info.isDir, false);
    const moved = await call('move_file', { id, source_path: '/tmp/mcp/notes.txt', dest_path: '/tmp/mcp/sub/notes.txt' });
    assert.equal(moved.isError, false, textOf(moved));
    const listed = JSON.parse(textOf(await call('list_files', { id, path: '/tmp/mcp/sub' })));
    const names = (Array.isArray(listed) ? listed : listed.files || []).map((f) => f.name).sort();
    assert.deepEqual(names, ['deeper', 'notes.txt']);
    assert.equal((await call('delete_file', { id, file_path: '/tmp/mcp/sub' })).isError, false);
    const gone = await call('get_file_info', { id, file_path: '/tmp/mcp/sub/notes.txt' });
    assert.equal(gone.isError, true);
  });

  await step('git_clone of a repository in the sandbox', async () => {
    await call('execute_command', {
      id, command: 'git init -q /tmp/origin && cd /tmp/origin && echo readme > README && git add README && ' +
        'git -c user.email=a@b -c user.name=t commit -qm first',
    });
    const cloned = await call('git_clone', { id, url: '/tmp/origin', path: '/tmp/clone' });
    assert.equal(cloned.isError, false, textOf(cloned));
    assert.equal(textOf(await call('file_download', { id, file_path: '/tmp/clone/README' })), 'readme\n');
  });

  await step('preview_link', async () => {
    const link = JSON.parse(textOf(await call('preview_link', { id, port: 8080 })));
    assert.match(link.url, new RegExp(`/preview/${id}/8080`));
    assert.ok(link.token.length > 10);
  });

  await step('preview_link check_server reaches the server without handing it the API key', async () => {
    const server = [
      'import http.server',
      'class H(http.server.BaseHTTPRequestHandler):',
      '    def do_GET(self):',
      '        open("/tmp/auth.txt", "w").write("auth=" + (self.headers.get("Authorization") or "none"))',
      '        self.send_response(200); self.end_headers(); self.wfile.write(b"ok")',
      'http.server.HTTPServer(("127.0.0.1", 8124), H).serve_forever()',
    ].join('\n');
    await call('file_upload', { id, file_path: '/tmp/hdr.py', content: server, overwrite: true });
    await call('execute_command', { id, command: 'nohup python3 /tmp/hdr.py >/dev/null 2>&1 &' });
    let link;
    for (let i = 0; i < 50; i++) {
      link = JSON.parse(textOf(await call('preview_link', { id, port: 8124, check_server: true })));
      if (link.serverResponding) break;
      await new Promise((r) => setTimeout(r, 200));
    }
    assert.equal(link.serverResponding, true);
    const seen = textOf(await call('file_download', { id, file_path: '/tmp/auth.txt' }));
    assert.equal(seen, 'auth=none');
  });

  await step('the platform\'s refusal is a tool error with its message', async () => {
    const r = await call('execute_command', { id: 'no-such-sandbox', command: 'true' });
    assert.equal(r.isError, true);
    assert.match(textOf(r), /not found/i);
  });

  await step('a missing argument and an unknown tool are MCP errors', async () => {
    await assert.rejects(call('execute_command', { id }), /command is required/);
    await assert.rejects(call('no_such_tool', {}), /no tool no_such_tool/);
  });

  await step('destroy_sandbox', async () => {
    assert.equal((await call('destroy_sandbox', { id })).isError, false);
    const r = await call('execute_command', { id, command: 'true' });
    assert.equal(r.isError, true);
  });

  await client.close();
  finish();
})().catch((e) => {
  console.log('FAIL', e && e.stack);
  process.exitCode = 1;
});
