/**
 * @module engine/containers/exec-run
 * Run a short command in a container and collect its exit code: what the engine needs to deliver
 * a signal (`kill -<n> 1`), not an interactive exec (that is src/stream's bridge). Output is kept
 * up to a small bound for error messages. The exit code comes from the channel-3 Status
 * (k8s-streams.md §1.5: Success -> 0; NonZeroExitCode -> causes[reason=ExitCode]; other failures
 * -> an error with the apiserver's message).
 */
import type { WsDialer } from '../../kube/ws-dialer.js';

export interface ExecResult {
  exitCode: number;
  output: string;
}

/** Exit code from a channel-3 Status object; throws for failures that are not an exit code. */
export function exitCodeFromStatus(status: { status?: string; reason?: string; message?: string; details?: { causes?: Array<{ reason?: string; type?: string; message?: string }> } }): number {
  if (status.status === 'Success') return 0;
  const cause = status.details?.causes?.find((c) => c.reason === 'ExitCode' || c.type === 'ExitCode');
  if (status.reason === 'NonZeroExitCode' && cause?.message && /^\d+$/.test(cause.message)) return Number(cause.message);
  throw new Error(status.message || status.reason || 'exec failed');
}

export async function execRun(dialer: WsDialer, namespace: string, pod: string, container: string, command: string[], timeoutMs = 10_000, maxOutput = 4096): Promise<ExecResult> {
  const { ws } = await dialer.exec(namespace, pod, { container, command, stdout: true, stderr: true });
  return new Promise<ExecResult>((resolve, reject) => {
    let output = '';
    let statusText = '';
    let done = false;
    const finish = (fn: () => void) => {
      if (done) return;
      done = true;
      clearTimeout(timer);
      if (ws.readyState === ws.OPEN) ws.close(1000);
      else ws.terminate();
      fn();
    };
    const timer = setTimeout(() => finish(() => reject(new Error(`exec ${command.join(' ')} timed out after ${timeoutMs} ms`))), timeoutMs);
    ws.on('message', (data: Buffer, isBinary: boolean) => {
      if (!isBinary || data.length === 0) return;
      const ch = data[0];
      if ((ch === 1 || ch === 2) && output.length < maxOutput) output += data.subarray(1).toString('utf8');
      else if (ch === 3) statusText += data.subarray(1).toString('utf8');
    });
    ws.on('error', (err) => finish(() => reject(err)));
    ws.on('close', (code: number) => {
      finish(() => {
        // No status + a normal close is success (client-go errorstream.go); any other close is not.
        if (!statusText) return code === 1000 ? resolve({ exitCode: 0, output }) : reject(new Error(`exec stream closed with code ${code} and no status`));
        try {
          resolve({ exitCode: exitCodeFromStatus(JSON.parse(statusText)), output });
        } catch (err) {
          reject(err);
        }
      });
    });
  });
}
