/**
 * @module sim/kubelet
 * TEMPORARY placeholder written by the apiserver side so that start() builds before the kubelet
 * lands: this kubelet never schedules pods, and every streaming subresource answers a 503 Status.
 * The kubelet engineer replaces this file with the real `createKubelet`.
 */
import type { IncomingMessage, ServerResponse } from 'node:http';
import type { Duplex } from 'node:stream';
import type { FaultRegistry } from '../faults.js';
import { StatusError, writeStatus, writeStatusOnSocket } from '../status.js';
import type { KObject, Kubelet, KubeletOptions, KubeletStore } from '../types.js';

const notBuilt = () => new StatusError(503, 'ServiceUnavailable', 'kube-sim kubelet not built yet');

export function createKubelet(_store: KubeletStore, _faults: FaultRegistry, _opts: KubeletOptions): Kubelet {
  return {
    async start() {},
    async stop() {},
    handleUpgrade(_kind: 'exec' | 'attach' | 'portforward', _req: IncomingMessage, socket: Duplex, _head: Buffer, _pod: KObject) {
      writeStatusOnSocket(socket, notBuilt());
    },
    handlePlain(_kind: 'exec' | 'attach' | 'portforward', _req: IncomingMessage, res: ServerResponse, _pod: KObject) {
      writeStatus(res, notBuilt());
    },
    handleLog(_req: IncomingMessage, res: ServerResponse, _pod: KObject) {
      writeStatus(res, notBuilt());
    },
  };
}
