// The official svix client reads what webhook-delivery recorded: the organization's messages,
// the attempts to an endpoint and of a message, and asks a resend.
// In: API_ORIGIN, API_KEY, APP_ID, ENDPOINT_ID. Out: a line per step, "ok" at the end.
const path = require('path');
const { pathToFileURL } = require('url');

(async () => {
  const { Svix } = await import(pathToFileURL(path.join(process.env.NODE_PATH, 'svix', 'dist', 'index.mjs')).href);
  const svix = new Svix(process.env.API_KEY, { serverUrl: process.env.API_ORIGIN });
  const app = process.env.APP_ID;
  const endpoint = process.env.ENDPOINT_ID;
  const messages = await svix.message.list(app, { limit: 2 });
  console.log(`messages: ${messages.data.length} done=${messages.done} first=${messages.data[0].eventType}`);
  const rest = await svix.message.list(app, { iterator: messages.iterator });
  console.log(`messages after the first page: ${rest.data.length}`);
  const one = await svix.message.get(app, messages.data[0].id);
  console.log(`message payload event: ${one.payload.event} timestamp ok: ${!isNaN(one.timestamp)}`);
  const byEndpoint = await svix.messageAttempt.listByEndpoint(app, endpoint);
  const failed = byEndpoint.data.filter((a) => a.statusText === 'fail').length;
  const succeeded = byEndpoint.data.filter((a) => a.statusText === 'success').length;
  console.log(`attempts to the endpoint: ${byEndpoint.data.length} success=${succeeded} fail=${failed}`);
  const byMessage = await svix.messageAttempt.listByMsg(app, one.id);
  console.log(`attempts of the message: ${byMessage.data.length} codes=${byMessage.data.map((a) => a.responseStatusCode).join(',')}`);
  await svix.messageAttempt.resend(app, one.id, endpoint);
  console.log(`resent ${one.id}`);
  console.log('ok');
})().catch((e) => {
  console.log('failed: ' + (e.body ? JSON.stringify(e.body) + ' ' : '') + e.stack);
  process.exitCode = 1;
});
