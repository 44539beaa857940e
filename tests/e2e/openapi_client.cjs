// A client generated from the API's own OpenAPI document (openapi-client-axios makes one call per
// operationId) drives the API, and every answer is checked against the schema the document gives
// for it (Ajv). Run by the API test (api_streams_test.cpp) with API_ORIGIN, API_KEY, ADMIN_KEY and
// NODE_PATH; exits non-zero, saying why, on the first problem.
const { OpenAPIClientAxios } = require('openapi-client-axios');
const SwaggerParser = require('@apidevtools/swagger-parser');
const Ajv = require('ajv');

const origin = process.env.API_ORIGIN;
const key = process.env.API_KEY;

function fail(message) {
  console.log('FAIL ' + message);
  process.exit(1);
}

async function main() {
  const doc = await (await fetch(origin + '/api/openapi.json')).json();
  // A valid OpenAPI 3.0 document, schemas included (the parser works on a copy: it dereferences).
  await SwaggerParser.validate(JSON.parse(JSON.stringify(doc)));
  console.log('document valid');

  const ajv = new Ajv({ strict: false, allErrors: true });
  const schemaOf = (path, method) => {
    const responses = doc.paths[path][method].responses;
    const success = Object.keys(responses).find((code) => code.startsWith('2'));
    const content = responses[success].content;
    if (!content) fail(`${method} ${path} declares no response schema`);
    return ajv.compile(content['application/json'].schema);
  };
  const check = (path, method, res) => {
    const validate = schemaOf(path, method);
    if (!validate(res.data)) fail(`${method} ${path}: ${ajv.errorsText(validate.errors)} in ${JSON.stringify(res.data)}`);
    console.log(`${method} ${path} ${res.status} matches its schema`);
  };

  const api = new OpenAPIClientAxios({
    definition: doc,
    axiosConfigDefaults: { baseURL: origin + '/api', headers: { Authorization: 'Bearer ' + key } },
  });
  const client = await api.init();

  const created = await client.postSandbox(null, { name: 'generated', labels: { by: 'openapi' }, env: { A: '1' } });
  check('/sandbox', 'post', created);
  const id = created.data.id;
  check('/sandbox/{sandboxIdOrName}', 'get', await client.getSandboxBySandboxIdOrName(id));
  check('/sandbox', 'get', await client.getSandbox({ labels: JSON.stringify({ by: 'openapi' }) }));
  check('/sandbox/{sandboxIdOrName}/labels', 'put',
        await client.putSandboxBySandboxIdOrNameLabels(id, { labels: { by: 'openapi', more: 'yes' } }));
  check('/sandbox/{sandboxIdOrName}/autostop/{interval}', 'post',
        await client.postSandboxBySandboxIdOrNameAutostopByInterval({ sandboxIdOrName: id, interval: 30 }));

  check('/sandbox/{sandboxIdOrName}/toolbox-proxy-url', 'get',
        await client.getSandboxBySandboxIdOrNameToolboxProxyUrl(id));
  check('/sandbox/{sandboxIdOrName}/ports/{port}/preview-url', 'get',
        await client.getSandboxBySandboxIdOrNamePortsByPortPreviewUrl({ sandboxIdOrName: id, port: 8080 }));
  check('/sandbox/{sandboxIdOrName}/ports/{port}/signed-preview-url', 'get',
        await client.getSandboxBySandboxIdOrNamePortsByPortSignedPreviewUrl({ sandboxIdOrName: id, port: 8080 }));

  const volume = await client.postVolumes(null, { name: 'generated-volume' });
  check('/volumes', 'post', volume);
  check('/volumes', 'get', await client.getVolumes());
  check('/volumes/{volumeId}', 'get', await client.getVolumesByVolumeId(volume.data.id));
  check('/snapshots', 'get', await client.getSnapshots());
  const audit = await client.getAudit();
  check('/audit', 'get', audit);
  if (audit.data.items.length === 0) fail('the audit log shows none of the calls above');
  check('/snapshots/{snapshotIdOrName}', 'get', await client.getSnapshotsBySnapshotIdOrName('default'));

  // An error answer has the declared error shape.
  const missing = await client.getSandboxBySandboxIdOrName('no-such-sandbox', null, { validateStatus: () => true });
  if (missing.status !== 404) fail('a missing sandbox answered ' + missing.status);
  const error = ajv.compile(doc.paths['/sandbox/{sandboxIdOrName}'].get.responses.default.content['application/json'].schema);
  if (!error(missing.data)) fail('the 404 body does not match the error schema: ' + JSON.stringify(missing.data));
  console.log('get /sandbox/{sandboxIdOrName} 404 matches the error schema');

  // The check can fail: a sandbox without its required id does not match.
  const withoutId = { ...created.data };
  delete withoutId.id;
  if (schemaOf('/sandbox', 'post')(withoutId)) fail('a sandbox without id passed its schema');

  // The admin routes, with the admin key: what the edge proxy asks (the wire structs' schemas).
  const admin = await new OpenAPIClientAxios({
    definition: doc,
    axiosConfigDefaults: { baseURL: origin + '/api', headers: { Authorization: 'Bearer ' + process.env.ADMIN_KEY } },
  }).init();
  check('/proxy/sandboxes/{sandboxId}', 'get', await admin.getProxySandboxesBySandboxId(id));
  check('/proxy/authorize', 'post',
        await admin.postProxyAuthorize(null, { api_key: key, sandbox_id: id, source: '127.0.0.1' }));

  check('/sandbox/{sandboxIdOrName}', 'delete', await client.deleteSandboxBySandboxIdOrName(id));

  check('/runners', 'get', await admin.getRunners());
  check('/admin/warm-pools', 'get', await admin.getAdminWarmPools());
  const org = await admin.postAdminOrganizations(null, { name: 'generated-org' });
  check('/admin/organizations', 'post', org);
  const second = await admin.postAdminOrganizationsByOrganizationIdApiKeys(org.data.id, { name: 'second' });
  check('/admin/organizations/{organizationId}/api-keys', 'post', second);
  check('/admin/organizations/{organizationId}/api-keys/{keyId}', 'delete',
        await admin.deleteAdminOrganizationsByOrganizationIdApiKeysByKeyId({ organizationId: org.data.id,
                                                                              keyId: second.data.keyId }));
  console.log('ok');
}

main().catch((e) => fail(e.stack || String(e)));
