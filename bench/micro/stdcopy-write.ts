/**
 * @module bench/micro/stdcopy-write
 * How to put an 8-byte stdcopy header in front of a payload on a real socket. A loopback TCP pair,
 * the reader in a child process (a Docker client is another process) counting bytes; the writer
 * writes `total` payload bytes in `size`-byte frames, honouring write() === false / 'drain'.
 *
 *   node dist/bench/micro/stdcopy-write.js [--quick] [--rounds N]
 *
 * Variants (MiB/s of payload delivered, and the ratio to `raw`):
 *   raw      socket.write(payload): no framing at all, the ceiling
 *   copy     Buffer.allocUnsafe(8+n), header + payload.copy: one write, one copy
 *   cork     cork(); write(header); write(payload); uncork(): one writev, no copy
 *   two      write(header); write(payload) with no cork: two writes
 *   auto     writeFrame() as shipped (copy up to COPY_THRESHOLD, cork above)
 *   rawtick  raw, but the socket corked for the rest of the tick (uncork on process.nextTick): the
 *            batching ceiling
 *   pump     cork for the tick, writeFrame() per payload (copy up to COPY_THRESHOLD); vs rawtick
 *   pumpzc   cork for the tick, header + payload view always (zero copy): what OutputPump does
 */
import net from 'node:net';
import { fork } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { writeFrame, writeCorked, encodeFrame, frameHeader } from '../../src/stream/stdcopy.js';
import { MiB, best, mibps, machine, table, sizeLabel } from './util.js';

type Variant = (s: net.Socket, p: Buffer) => boolean;

let tickCorked = false;
function tickUncork(s: net.Socket): void {
  tickCorked = false;
  s.uncork();
}
function corkForTick(s: net.Socket): void {
  if (tickCorked) return;
  tickCorked = true;
  s.cork();
  process.nextTick(tickUncork, s);
}

const VARIANTS: Record<string, Variant> = {
  raw: (s, p) => s.write(p),
  copy: (s, p) => s.write(encodeFrame(1, p)),
  cork: (s, p) => writeCorked(s, 1, p),
  two: (s, p) => {
    s.write(frameHeader(1, p.length));
    return s.write(p);
  },
  auto: (s, p) => writeFrame(s, 1, p),
  rawtick: (s, p) => {
    corkForTick(s);
    return s.write(p);
  },
  pump: (s, p) => {
    corkForTick(s);
    return writeFrame(s, 1, p);
  },
  pumpzc: (s, p) => {
    corkForTick(s);
    return writeCorked(s, 1, p);
  },
};

// ---- reader (child process) --------------------------------------------------------------------
if (process.argv[2] === '--reader') {
  const server = net.createServer((sock) => {
    let got = 0;
    let want = -1;
    process.on('message', (m: { want: number }) => {
      want = m.want;
      if (got >= want) done();
    });
    function done() {
      process.send!({ got });
      got = 0;
      want = -1;
    }
    sock.on('data', (d) => {
      got += d.length;
      if (want >= 0 && got >= want) done();
    });
  });
  server.listen(0, '127.0.0.1', () => process.send!({ port: (server.address() as net.AddressInfo).port }));
  process.on('disconnect', () => process.exit(0));
} else {
  await main();
}

async function main() {
  const quick = process.argv.includes('--quick');
  const ri = process.argv.indexOf('--rounds');
  const rounds = ri > 0 ? Number(process.argv[ri + 1]) : quick ? 1 : 3;
  const sizes = [16, 256, 1024, 4096, 16384, 32768, 262144, MiB];
  const child = fork(fileURLToPath(import.meta.url), ['--reader'], { stdio: ['ignore', 'inherit', 'inherit', 'ipc'] });
  const port = await new Promise<number>((r) => child.once('message', (m: { port: number }) => r(m.port)));
  const sock = net.connect(port, '127.0.0.1');
  await new Promise((r) => sock.once('connect', r));
  sock.setNoDelay(true);

  const waitGot = () => new Promise<void>((r) => child.once('message', () => r()));

  async function run(variant: string, size: number): Promise<[number, number]> {
    const fn = VARIANTS[variant]!;
    const payload = Buffer.alloc(size, 0x61);
    // Enough bytes that a run takes ~0.2-1 s on this class of machine, fewer for tiny frames.
    // Unbatched tiny writes are one syscall each (~2 MiB/s at 16 B), hence the small totals there.
    const total =
      (quick ? 0.25 : 1) *
      (size <= 16 ? MiB : size <= 256 ? 8 * MiB : size <= 1024 ? 16 * MiB : size <= 4096 ? 64 * MiB : 128 * MiB);
    const frames = Math.ceil(total / size);
    const wire = variant.startsWith('raw') ? frames * size : frames * (size + 8);
    child.send({ want: wire });
    const got = waitGot();
    const t0 = process.hrtime.bigint();
    const c0 = process.cpuUsage();
    await new Promise<void>((resolve) => {
      let i = 0;
      const loop = () => {
        while (i < frames) {
          i++;
          if (!fn(sock, payload)) {
            sock.once('drain', loop);
            return;
          }
        }
        resolve();
      };
      loop();
    });
    await got;
    const ms = Number(process.hrtime.bigint() - t0) / 1e6;
    const cpu = process.cpuUsage(c0);
    // Wall-clock MiB/s, and MiB per second of the writer's own CPU (steadier on a shared machine).
    return [mibps(frames * size, ms), mibps(frames * size, (cpu.user + cpu.system) / 1000)];
  }

  const names = Object.keys(VARIANTS);
  const results: Record<string, Record<number, number[]>> = {};
  const cpuResults: Record<string, Record<number, number[]>> = {};
  for (const n of names) results[n] = {};
  for (const n of names) cpuResults[n] = {};
  for (const size of sizes) {
    for (let r = 0; r < rounds; r++) {
      // Alternate the order each round so warm-up and drift do not favour one variant.
      const order = r % 2 ? [...names].reverse() : names;
      for (const v of order) {
        const [x, c] = await run(v, size);
        if (process.env.BENCH_VERBOSE) console.error(v, size, x.toFixed(1), c.toFixed(1));
        (results[v]![size] ??= []).push(x);
        (cpuResults[v]![size] ??= []).push(c);
      }
    }
  }
  sock.destroy();
  child.disconnect();

  console.log(
    `stdcopy framing on a loopback TCP pair (reader in a child process), best of ${rounds} (a shared machine: the least disturbed run)`,
  );
  console.log(machine());
  const vsRaw = ['copy', 'cork', 'two', 'auto'];
  for (const [title, res] of [
    ['wall clock: payload MiB/s', results],
    ['writer CPU: payload MiB per CPU-second', cpuResults],
  ] as const) {
    console.log(`\n${title}`);
    const rows: (string | number)[][] = [
      ['payload', ...names, ...vsRaw.map((n) => `${n}/raw`), 'pump/rawtick', 'pumpzc/rawtick'],
    ];
    for (const size of sizes) {
      const m = Object.fromEntries(names.map((n) => [n, best(res[n]![size]!)]));
      rows.push([
        sizeLabel(size),
        ...names.map((n) => m[n]!),
        ...vsRaw.map((n) => m[n]! / m.raw!),
        m.pump! / m.rawtick!,
        m.pumpzc! / m.rawtick!,
      ]);
    }
    console.log(table(rows));
  }
}
