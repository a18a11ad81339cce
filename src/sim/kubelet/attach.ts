/**
 * @module sim/kubelet/attach
 * pods/attach after the upgrade (kubelet cri/streaming/remotecommand attach.go): the session
 * receives the container's main process output from now on (several sessions at once receive the
 * same bytes), writes into its stdin when the container has `stdin: true`, resizes its terminal
 * when it has `tty: true`. The session ends with a Success status (never an exit code: that is in
 * the pod status) when the container exits, or silently when the client leaves; attach never stops
 * the container. `stdinOnce`: the container's stdin closes when the first client's stdin ends.
 */
import type { ContainerInstance, OutputSink } from './container.js';
import { sendConnected, type StreamFlags } from './exec-session.js';
import { ResizeDecoder, SUCCESS, type ChannelConn } from './ws-channels.js';

export function serveAttach(conn: ChannelConn, inst: ContainerInstance, f: StreamFlags): Promise<void> {
  sendConnected(conn, f);
  return new Promise<void>((resolve) => {
    const sink: OutputSink = {
      write(stream, chunk) {
        if (conn.isClosed) return;
        const ch = inst.tty
          ? f.stdout
            ? 1
            : undefined
          : stream === 1
            ? f.stdout
              ? 1
              : undefined
            : f.stderr
              ? 2
              : undefined;
        if (ch === undefined) return;
        if (!conn.send(ch, chunk)) {
          inst.pause(sink);
          conn.onDrain(() => inst.resume(sink));
        }
      },
      end() {
        endStdin();
        if (!conn.isClosed) {
          conn.sendStatus(SUCCESS);
          conn.close();
        }
        resolve();
      },
    };
    const useStdin = f.stdin && inst.stdinOpen;
    const endStdin = useStdin ? inst.openStdin() : () => {};
    const resize = new ResizeDecoder((rows, cols) => inst.proc?.resize(rows, cols));
    conn.onMessage((ch, payload) => {
      if (ch === 0) {
        if (!useStdin) return;
        if (!inst.writeStdin(payload)) {
          conn.pause();
          inst.onStdinDrain(() => conn.resume());
        }
      } else if (ch === 4) {
        if (inst.tty) resize.push(payload);
      } else if (ch === 255 && payload[0] === 0) endStdin();
    });
    const detach = inst.addSink(sink);
    conn.onClose(() => {
      detach();
      endStdin();
      resolve();
    });
  });
}
