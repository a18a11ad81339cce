/**
 * The `path` of `docker cp` requests, checked before anything reaches Kubernetes: a NUL byte
 * (which the 100k bench fuzz sent, and which reached kube-sim's exec as a TypeError reported as
 * "this image has no tar") is a 400 on HEAD, GET and PUT, as raw bytes on the wire.
 */
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { startServer, type TestServer } from '../helpers/server.js';
import { parseResponses, rawExchange } from '../helpers/raw-client.js';

let srv: TestServer;
test.before(async () => {
  srv = await startServer();
});
test.after(() => srv.close());

for (const method of ['HEAD', 'GET', 'PUT']) {
  test(`~> ${method} /containers/{id}/archive?path= with a NUL byte: 400 naming it`, async () => {
    const body = method === 'PUT' ? Buffer.alloc(1024) : Buffer.alloc(0);
    const head =
      `${method} /v1.45/containers/abc/archive?path=%2Ftmp%00x HTTP/1.1\r\nHost: docker\r\nConnection: close\r\n` +
      (method === 'PUT' ? `Content-Type: application/x-tar\r\nContent-Length: ${body.length}\r\n` : '') +
      '\r\n';
    const c = await rawExchange({ path: srv.socketPath }, Buffer.concat([Buffer.from(head, 'latin1'), body]), {
      end: false,
    });
    const [r] = parseResponses(c.data, { ended: true, head: method === 'HEAD' ? [0] : [] }).responses;
    assert.ok(r, `an answer: ${JSON.stringify(c.text)}`);
    assert.is(r.status, 400);
    if (method !== 'HEAD')
      assert.equal(JSON.parse(r.body.toString()), {
        message: 'bad parameter: path "/tmp\\u0000x" contains a NUL byte',
      });
  });
}

test.run();
