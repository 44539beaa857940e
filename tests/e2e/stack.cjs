// What the end-to-end drivers ask of the stack the test started: a fresh organization of their
// own (the admin route), so each driver has its own sandboxes and its own rate limits.
// Env: API_URL, ADMIN_API_KEY.
'use strict';

async function newOrganization(name) {
  const { API_URL: apiUrl, ADMIN_API_KEY: adminKey } = process.env;
  const res = await fetch(`${apiUrl}/admin/organizations`, {
    method: 'POST', headers: { Authorization: `Bearer ${adminKey}`, 'Content-Type': 'application/json' },
    body: JSON.stringify({ name }),
  });
  if (res.status !== 201) throw new Error(`making organization ${name}: ${res.status} ${await res.text()}`);
  const org = await res.json();
  // The key works once the projection has it.
  for (let i = 0; i < 100; i++) {
    const probe = await fetch(`${apiUrl}/sandbox?limit=1`, { headers: { Authorization: `Bearer ${org.apiKey}` } });
    if (probe.status === 200) return org;
    await new Promise((r) => setTimeout(r, 100));
  }
  throw new Error(`the key of organization ${name} never worked`);
}

module.exports = { newOrganization };
