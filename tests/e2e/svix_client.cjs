// The official svix client (2.5.0) manages webhook endpoints against the platform: the
// application is the organization's; endpoints are made, read, listed, replaced, patched,
// rotated, recovered and deleted; another organization's key sees none of it (404); an
// endpoint on a metadata or link-local address is refused; only the admin key sends a message.
// In: API_ORIGIN, API_KEY (organization A), API_KEY_B (organization B), ADMIN_KEY. Out: a line per step,
// "ok" at the end; exit 1 on the first failure.
const path = require('path');
const { pathToFileURL } = require('url');

function expect(what, condition) {
  if (!condition) throw new Error('expected: ' + what);
  console.log('checked: ' + what);
}

async function status(promise) {
  try {
    await promise;
    return 200;
  } catch (e) {
    return e.code ?? String(e);
  }
}

(async () => {
  const { Svix } = await import(pathToFileURL(path.join(process.env.NODE_PATH, 'svix', 'dist', 'index.mjs')).href);
  const options = { serverUrl: process.env.API_ORIGIN };
  const svix = new Svix(process.env.API_KEY, options);
  const stranger = new Svix(process.env.API_KEY_B, options);

  const app = await svix.application.getOrCreate({ name: 'mine' });
  expect('the application is the organization', typeof app.id === 'string' && app.id.length === 36 && app.uid === app.id);
  expect('the application reads back', (await svix.application.get(app.id)).id === app.id);

  const made = await svix.endpoint.create(app.id, {
    url: 'http://127.0.0.1:9/hook',
    description: 'first',
    eventTypes: ['sandbox.created', 'sandbox.state.updated'],
    uid: 'my-endpoint',
    metadata: { team: 'blue' },
  });
  expect('an endpoint is made', made.url === 'http://127.0.0.1:9/hook' && made.description === 'first');
  expect('its types come back', JSON.stringify(made.eventTypes) === '["sandbox.created","sandbox.state.updated"]');
  expect('its times are dates', made.createdAt instanceof Date && !isNaN(made.createdAt));
  expect('it is found by uid', (await svix.endpoint.get(app.id, 'my-endpoint')).id === made.id);

  const list = await svix.endpoint.list(app.id);
  expect('it is listed', list.data.some((e) => e.id === made.id) && list.done === true);

  const replaced = await svix.endpoint.upsert(app.id, made.id, { url: 'http://127.0.0.1:9/other', description: 'second' });
  expect('PUT replaces (types back to all)', replaced.url === 'http://127.0.0.1:9/other' && replaced.eventTypes == null);
  const patched = await svix.endpoint.patch(app.id, made.id, { disabled: true });
  expect('PATCH changes only what it names', patched.disabled === true && patched.description === 'second');

  const secret = await svix.endpoint.getSecret(app.id, made.id);
  expect('the secret is a whsec_ secret', secret.key.startsWith('whsec_'));
  await svix.endpoint.rotateSecret(app.id, made.id, {});
  const rotated = await svix.endpoint.getSecret(app.id, made.id);
  expect('rotation gives a new secret', rotated.key.startsWith('whsec_') && rotated.key !== secret.key);

  const upserted = await svix.endpoint.upsert(app.id, 'made-by-put', { url: 'http://127.0.0.1:9/put' });
  expect('PUT on a missing uid makes it', upserted.uid === 'made-by-put' && upserted.id !== made.id);
  await svix.endpoint.delete(app.id, 'made-by-put');

  const recovering = await svix.endpoint.recover(app.id, made.id, { since: new Date(Date.now() - 3600 * 1000) });
  expect('recover is accepted', recovering.task === 'endpoint.recover');

  expect('another organization does not see the application', (await status(stranger.application.get(app.id))) === 404);
  expect('nor the endpoint', (await status(stranger.endpoint.get(app.id, made.id))) === 404);
  expect('nor its secret', (await status(stranger.endpoint.getSecret(app.id, made.id))) === 404);
  expect('nor can it delete it', (await status(stranger.endpoint.delete(app.id, made.id))) === 404);
  const theirs = await stranger.application.getOrCreate({ name: 'theirs' });
  expect('its own application is another', theirs.id !== app.id);
  expect('its list holds none of ours', (await stranger.endpoint.list(theirs.id)).data.length === 0);

  expect('a metadata address is refused',
         (await status(svix.endpoint.create(app.id, { url: 'http://169.254.169.254/latest/meta-data' }))) === 400);
  expect('a link-local address is refused', (await status(svix.endpoint.create(app.id, { url: 'http://[fe80::1]/' }))) === 400);
  expect('a private address is refused here', (await status(svix.endpoint.create(app.id, { url: 'http://10.0.0.1/' }))) === 400);
  expect('an unknown type is refused',
         (await status(svix.endpoint.create(app.id, { url: 'http://127.0.0.1:9/', eventTypes: ['SandboxStarted'] }))) === 400);

  // The admin test send (message.create): the platform's admin key only.
  const admin = new Svix(process.env.ADMIN_KEY, options);
  const sent = await admin.message.create(app.id, { eventType: 'test.ping', payload: { hello: 'world' }, eventId: 'ping-1' });
  expect('the admin key sends a message', /^msg_[0-9]+_0$/.test(sent.id) && sent.eventType === 'test.ping' &&
         sent.payload.hello === 'world' && sent.eventId === 'ping-1');
  expect('the organization\'s own key may not send one',
         (await status(svix.message.create(app.id, { eventType: 'test.ping', payload: {} }))) === 401);
  expect('nor may another organization\'s key',
         (await status(stranger.message.create(app.id, { eventType: 'test.ping', payload: {} }))) === 401);
  expect('an event type with a space is refused',
         (await status(admin.message.create(app.id, { eventType: 'test ping', payload: {} }))) === 400);
  expect('an application that does not exist is 404',
         (await status(admin.message.create('00000000-0000-4000-8000-000000000001', { eventType: 't', payload: {} }))) === 404);

  await svix.endpoint.delete(app.id, made.id);
  expect('a deleted endpoint is gone', (await status(svix.endpoint.get(app.id, made.id))) === 404);
  console.log('ok');
})().catch((e) => {
  console.log('failed: ' + (e.body ? JSON.stringify(e.body) + ' ' : '') + e.stack);
  process.exitCode = 1;
});
