/**
 * @module bench/lib/raw-producer
 * Path (c), the producing end: a local TCP server that plays the container's part without any
 * Kubernetes or Docker in between. A client sends one command line, then:
 *   `stream <blocks> <tty 0|1> <timestamps 0|1>`  the model stream (bench/lib/model), then FIN;
 *   `reply <bytes>`                               that many bytes, then FIN (request/response);
 *   `echo`                                        every later byte back (interactive echo).
 * Writes honour backpressure (`write()` false waits for 'drain'). Run as its own process:
 * `node dist/bench/lib/raw-producer.js` prints `ready port=N`.
 */
import { createServer, type Socket } from 'node:net';
import { modelPieces } from './model.js';

function serve(sock: Socket): void {
  sock.setNoDelay(true);
  let buf = Buffer.alloc(0);
  const onData = (d: Buffer) => {
    buf = Buffer.concat([buf, d]);
    const nl = buf.indexOf(10);
    if (nl < 0) return;
    sock.off('data', onData);
    const [cmd, ...args] = buf.subarray(0, nl).toString('latin1').trim().split(' ');
    const rest = buf.subarray(nl + 1);
    if (cmd === 'stream') void stream(sock, Number(args[0]), args[1] === '1', args[2] === '1');
    else if (cmd === 'reply') {
      sock.end(Buffer.alloc(Number(args[0]), 0x61));
    } else if (cmd === 'echo') {
      if (rest.length) sock.write(rest);
      sock.on('data', (x: Buffer) => sock.write(x));
      sock.on('end', () => sock.end());
    } else sock.destroy();
  };
  sock.on('data', onData);
  sock.on('error', () => sock.destroy());
}

async function stream(sock: Socket, blocks: number, tty: boolean, timestamps: boolean): Promise<void> {
  for (const piece of modelPieces({ blocks, tty, timestamps })) {
    if (sock.destroyed) return;
    if (!sock.write(piece))
      await new Promise<void>((r) => {
        const go = () => {
          sock.off('close', go);
          sock.off('drain', go);
          r();
        };
        sock.once('drain', go);
        sock.once('close', go);
      });
  }
  sock.end();
}

const server = createServer({ allowHalfOpen: true, noDelay: true }, serve);
server.listen(0, '127.0.0.1', () => {
  const a = server.address();
  process.stdout.write(`ready port=${typeof a === 'object' && a ? a.port : 0}\n`);
});
process.on('SIGTERM', () => {
  server.close();
  process.exit(0);
});
