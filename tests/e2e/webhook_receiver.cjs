// A webhook receiver for the tests, verifying with code nobody here wrote (npm standardwebhooks).
// Listens on 127.0.0.1, an ephemeral port (first line: "listening PORT"). Each delivery is checked
// against the secrets the test wrote for its path in WEBHOOK_SECRETS_FILE ({"/path": [secret,...]},
// read again at every delivery) and answered by its path:
//   /fail-first-N  500 to the first N attempts of each message, then 204
//   /gone          410 (the endpoint is to be disabled)
//   /slow-MS       204 after MS milliseconds
//   anything else  204
// and logged as one JSON line: path, webhook-id, attempt, verified, status, and the payload's
// event, id, newState and reason.
const http = require('http');
const fs = require('fs');
const { Webhook } = require('standardwebhooks');

const attempts = new Map();
const server = http.createServer((req, res) => {
  let body = '';
  req.on('data', (chunk) => (body += chunk));
  req.on('end', () => {
    let secrets = {};
    try {
      secrets = JSON.parse(fs.readFileSync(process.env.WEBHOOK_SECRETS_FILE, 'utf8'));
    } catch (e) {}
    const path = req.url;
    let verified = false;
    let why = 'no secret for ' + path;
    for (const secret of secrets[path] || []) {
      try {
        new Webhook(secret).verify(body, req.headers);
        verified = true;
        break;
      } catch (e) {
        why = e.message;
      }
    }
    const id = req.headers['webhook-id'];
    const attempt = (attempts.get(path + ' ' + id) || 0) + 1;
    attempts.set(path + ' ' + id, attempt);
    let status = 204;
    const failing = /^\/fail-first-(\d+)$/.exec(path);
    if (failing && attempt <= Number(failing[1])) status = 500;
    if (path === '/gone') status = 410;
    let data = {};
    try {
      data = JSON.parse(body);
    } catch (e) {}
    console.log(JSON.stringify({
      path, id, attempt, verified, why: verified ? '' : why, status,
      svixHeaders: req.headers['svix-id'] === id && req.headers['svix-signature'] === req.headers['webhook-signature'],
      event: data.event, subject: data.id, newState: data.newState, reason: data.reason,
    }));
    const slow = /^\/slow-(\d+)$/.exec(path);
    setTimeout(() => {
      res.writeHead(status);
      res.end();
    }, slow ? Number(slow[1]) : 0);
  });
});
server.listen(0, '127.0.0.1', () => console.log('listening ' + server.address().port));
process.on('SIGTERM', () => server.close(() => process.exit(0)));
