// Verifies deliveries signed by the platform (events/webhooks/signing.hpp) with code nobody here
// wrote: the npm standardwebhooks package (webhook-* headers) and svix (svix-* headers).
// In: WEBHOOK_SECRETS (JSON array: each must verify), WEBHOOK_BODY, WEBHOOK_HEADERS (JSON object).
// Out: a line per check; exit 1 when one fails.
const path = require('path');
const { pathToFileURL } = require('url');
const { Webhook } = require('standardwebhooks');

const secrets = JSON.parse(process.env.WEBHOOK_SECRETS);
const body = process.env.WEBHOOK_BODY;
const headers = JSON.parse(process.env.WEBHOOK_HEADERS);

function check(name, f, shouldPass) {
  let passed = false;
  let why = '';
  try {
    f();
    passed = true;
  } catch (e) {
    why = e.message;
  }
  console.log(`${name}: ${passed ? 'verified' : 'refused (' + why + ')'}`);
  if (passed !== shouldPass) process.exitCode = 1;
}

(async () => {
  // svix is ESM only, and ESM does not read NODE_PATH: import it by its file.
  const svixFile = path.join(process.env.NODE_PATH, 'svix', 'dist', 'index.mjs');
  const { Webhook: SvixWebhook } = await import(pathToFileURL(svixFile).href);
  const svixHeaders = {
    'svix-id': headers['svix-id'],
    'svix-timestamp': headers['svix-timestamp'],
    'svix-signature': headers['svix-signature'],
  };
  secrets.forEach((secret, i) => {
    check(`standardwebhooks secret ${i}`, () => new Webhook(secret).verify(body, headers), true);
    check(`svix secret ${i}`, () => new SvixWebhook(secret).verify(body, svixHeaders), true);
  });
  check('standardwebhooks tampered body', () => new Webhook(secrets[0]).verify(body + ' ', headers), false);
  check('svix tampered body', () => new SvixWebhook(secrets[0]).verify(body + ' ', svixHeaders), false);
  console.log('done');
})().catch((e) => {
  console.log('failed: ' + e.stack);
  process.exitCode = 1;
});
