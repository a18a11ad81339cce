/**
 * @module bench/lib/raw-proxy
 * Path (c), the middle: the barest Node.js TCP pass-through, `net` sockets piped both ways
 * (stream.pipe: a false `write()` pauses the source, 'drain' resumes it) with half-close kept.
 * Whatever a Node proxy does on this machine, it cannot beat this: it is the ceiling that
 * kuber-api's a/c ratio is measured against. `node dist/bench/lib/raw-proxy.js <target-port>`
 * prints `ready port=N`.
 */
import { connect, createServer } from 'node:net';

const target = Number(process.argv[2]);
const server = createServer({ allowHalfOpen: true, noDelay: true }, (client) => {
  const up = connect({ port: target, host: '127.0.0.1', allowHalfOpen: true, noDelay: true });
  client.pipe(up);
  up.pipe(client);
  const kill = () => {
    client.destroy();
    up.destroy();
  };
  client.on('error', kill);
  up.on('error', kill);
  client.on('close', () => up.destroy());
  up.on('close', () => {
    if (client.writableFinished || client.destroyed) client.destroy();
  });
});
server.listen(0, '127.0.0.1', () => {
  const a = server.address();
  process.stdout.write(`ready port=${typeof a === 'object' && a ? a.port : 0}\n`);
});
process.on('SIGTERM', () => {
  server.close();
  process.exit(0);
});
