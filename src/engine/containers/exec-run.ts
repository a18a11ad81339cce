/**
 * @module engine/containers/exec-run
 * Run a short command in a container and collect its exit code: what the engine needs to deliver
 * a signal (`kill -<n> 1`), not an interactive exec (that is src/stream's bridge). Output is kept
 * up to a small bound for error messages. The exit code comes from the channel-3 Status, read
 * as client-go reads it (stream/k8s-channel.ts parseStatus: Success -> 0; NonZeroExitCode ->
 * causes[reason=ExitCode]; other failures -> an error with the apiserver's message).
 */
import type { WsDialer } from '../../kube/ws-dialer.js';
import { readChannels } from '../../stream/channel-reader.js';

/** Bounds of one short command (named options: --exec-run-timeout-ms; the output bound is for messages). */
export interface ExecRunLimits {
  timeoutMs: number;
  /** Characters of output kept for error messages. */
  maxOutput: number;
}

export interface ExecResult {
  exitCode: number;
  output: string;
}

/**
 * Run `command` to completion (stdout and stderr kept up to `maxOutput` characters), within
 * `timeoutMs`. The exit code is the session's status (stream/channel-reader.ts); a session that
 * failed without one (the runtime could not start the program) rejects with its message.
 */
export async function execRun(
  dialer: WsDialer,
  namespace: string,
  pod: string,
  container: string,
  command: string[],
  limits: ExecRunLimits,
): Promise<ExecResult> {
  const { ws } = await dialer.exec(namespace, pod, { container, command, stdout: true, stderr: true });
  return new Promise<ExecResult>((resolve, reject) => {
    let output = '';
    const finish = (fn: () => void) => {
      reading.stop();
      clearTimeout(timer);
      if (ws.readyState === ws.OPEN) ws.close(1000);
      else ws.terminate();
      fn();
    };
    const timer = setTimeout(
      () => finish(() => reject(new Error(`exec ${command.join(' ')} timed out after ${limits.timeoutMs} ms`))),
      limits.timeoutMs,
    );
    const reading = readChannels(
      ws,
      (_ch, payload) => {
        if (output.length < limits.maxOutput) output += payload.toString('utf8');
      },
      (end) =>
        finish(() => {
          if (end.reason === 'error') return reject(end.error);
          if (end.status.kind === 'exit') resolve({ exitCode: end.status.exitCode, output });
          else reject(new Error(end.status.message));
        }),
    );
  });
}
