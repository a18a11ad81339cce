/**
 * @module bench/micro/channel
 * CPU cost of the exec/attach output path in memory: K8s channel messages of 16 B ... 1 MiB
 * through `parseChannelMessage`, through `OutputPump` (parse + stdcopy framing + backpressure
 * bookkeeping) into a counting sink, and the stdcopy demuxer on the resulting bytes.
 * The socket-level comparison is bench/micro/stdcopy-write.
 *
 *   node dist/bench/micro/channel.js [--quick] [--rounds N]
 */
import { parseChannelMessage } from '../../src/stream/k8s-channel.js';
import { OutputPump } from '../../src/stream/bridge.js';
import { StdcopyDemuxer, encodeFrame } from '../../src/stream/stdcopy.js';
import { MiB, best, mibps, machine, table, sizeLabel } from './util.js';

const quick = process.argv.includes('--quick');
const ri = process.argv.indexOf('--rounds');
const rounds = ri > 0 ? Number(process.argv[ri + 1]) : quick ? 1 : 5;
const sizes = [16, 256, 4096, 32768, 262144, MiB];

const noopSrc = { pause() {}, resume() {} };

function bench(size: number) {
  const total = (quick ? 0.25 : 1) * (size <= 256 ? 32 * MiB : 256 * MiB);
  const n = Math.ceil(total / size);
  const m = Buffer.alloc(size + 1, 0x61);
  m[0] = 1;
  // Bytes for the demuxer: 16 MiB worth of frames of this size, pushed in 64 KiB reads.
  const framed = Buffer.concat(
    Array.from({ length: Math.max(1, Math.ceil((16 * MiB) / size)) }, () => encodeFrame(1, m.subarray(1))),
  );
  const out: Record<string, number> = {};

  let t0 = process.hrtime.bigint();
  let sum = 0;
  for (let i = 0; i < n; i++) sum += parseChannelMessage(m)!.payload.length;
  out.parse = mibps(sum, Number(process.hrtime.bigint() - t0) / 1e6);

  const sink = {
    n: 0,
    write(b: Uint8Array) {
      sink.n += b.length;
      return true;
    },
    once() {},
    removeListener() {},
  };
  const pump = new OutputPump(noopSrc, sink, false);
  t0 = process.hrtime.bigint();
  const payload = m.subarray(1);
  for (let i = 0; i < n; i++) pump.write(1, payload);
  out.pump = mibps(pump.bytes, Number(process.hrtime.bigint() - t0) / 1e6);

  let got = 0;
  const d = new StdcopyDemuxer((_s, data) => (got += data.length));
  t0 = process.hrtime.bigint();
  // The same frames again and again, so a run lasts long enough to time (>= 128 MiB of payload).
  const reps = Math.max(1, Math.ceil(((quick ? 32 : 128) * MiB) / framed.length));
  for (let r = 0; r < reps; r++)
    for (let off = 0; off < framed.length; off += 65536) d.push(framed.subarray(off, off + 65536));
  out.demux = mibps(got, Number(process.hrtime.bigint() - t0) / 1e6);
  return out;
}

const res: Record<number, Record<string, number[]>> = {};
for (let r = 0; r < rounds; r++) {
  for (const s of sizes) {
    const o = bench(s);
    for (const [k, v] of Object.entries(o)) ((res[s] ??= {})[k] ??= []).push(v);
  }
}
console.log(
  `channel message paths, in memory, payload MiB/s, best of ${rounds} (a shared machine: the least disturbed run)`,
);
console.log(machine());
console.log(
  table([
    ['payload', 'parseChannelMessage', 'OutputPump -> stdcopy', 'StdcopyDemuxer'],
    ...sizes.map((s) => [sizeLabel(s), best(res[s]!.parse!), best(res[s]!.pump!), best(res[s]!.demux!)]),
  ]),
);
