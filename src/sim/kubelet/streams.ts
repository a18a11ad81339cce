/**
 * @module sim/kubelet/streams
 * The streaming subresources' front door: what the apiserver checks before proxying (container
 * validation, "does not have a host assigned"), protocol choice, and where kubelet failures show
 * up. With `v5.channel.k8s.io` the apiserver upgrades first and translates: kubelet failures arrive
 * as a Failure Status on channel 3 after the 101. Other WebSocket protocols are proxied to the
 * kubelet, whose failures are plain HTTP errors before the upgrade. SPDY (kubectl <= 1.29, and
 * kubectl's fallback after any failed WebSocket attempt) gets a clear 400 Status, never a hang.
 */
import type { IncomingMessage, ServerResponse } from 'node:http';
import type { Duplex } from 'node:stream';
import type { Logger } from '../../log.js';
import type { FaultRegistry } from '../faults.js';
import { badRequest, StatusError, writeStatus, writeStatusOnSocket } from '../status.js';
import type { KObject } from '../types.js';
import { serveAttach } from './attach.js';
import { sendConnected, serveExec, type StreamFlags } from './exec-session.js';
import { queryBool } from './log-serve.js';
import type { PodWorker } from './pod-worker.js';
import { parsePorts, servePortForward } from './portforward.js';
import { validateContainer } from './validate.js';
import {
  ChannelConn,
  EXEC_PROTOCOLS,
  internalStatus,
  negotiate,
  offeredProtocols,
  PORTFORWARD_PROTOCOLS,
  V5,
} from './ws-channels.js';
import { acceptHandshake, handshakeError, WsEndpoint } from './ws-server.js';

type Obj = Record<string, any>;
type Kind = 'exec' | 'attach' | 'portforward';

export interface StreamHost {
  worker(pod: KObject): PodWorker | undefined;
  faults: FaultRegistry;
  highWaterMark: number;
  log: Logger;
}

const SPDY_MESSAGE =
  'kube-sim supports only WebSocket streaming (v5.channel.k8s.io/v4.channel.k8s.io); SPDY is not supported';
const PF_MESSAGE =
  'kube-sim supports pods/portforward only over the WebSocket channel protocol (v4.channel.k8s.io, as @kubernetes/client-node uses it); SPDY (and SPDY tunnelled in WebSocket, kubectl port-forward) is not supported';

/** A kubelet-side failure: its HTTP code on the proxied path, InternalError on channel 3 with v5. */
class KubeletError extends Error {
  constructor(
    readonly code: number,
    message: string,
  ) {
    super(message);
  }
}

const kubeletStatus = (e: KubeletError) =>
  new StatusError(e.code, e.code === 400 ? 'BadRequest' : 'InternalError', e.message);

export class StreamServer {
  private readonly open = new Set<WsEndpoint>();
  private readonly kinds = new Map<WsEndpoint, Kind>();

  constructor(private readonly host: StreamHost) {}

  private flags(q: URLSearchParams): StreamFlags {
    const f = {
      stdin: queryBool(q, 'stdin'),
      stdout: queryBool(q, 'stdout'),
      stderr: queryBool(q, 'stderr'),
      tty: queryBool(q, 'tty'),
    };
    // kubelet: with a TTY, stderr is merged into the terminal ("bypassing stderr").
    if (f.tty) f.stderr = false;
    return f;
  }

  /** The kubelet's own checks (remotecommand NewOptions, findContainer). */
  private kubeletCheck(
    kind: Kind,
    pod: KObject,
    container: string,
    f: StreamFlags,
    argv: string[],
  ): KubeletError | undefined {
    const worker = this.host.worker(pod);
    if (kind === 'portforward') {
      if (!worker?.net || !worker.isSandboxReady())
        return new KubeletError(500, `pod not found ("${pod.metadata.name}_${pod.metadata.namespace}")`);
      return undefined;
    }
    if (!f.stdin && !f.stdout && !f.stderr)
      return new KubeletError(400, 'you must specify at least 1 of stdin, stdout, stderr');
    const inst = worker?.container(container)?.current;
    if (!inst?.running || !inst.proc?.pid) return new KubeletError(500, `container not found ("${container}")`);
    if (kind === 'exec' && !argv.length) return new KubeletError(500, 'cmd cannot be empty');
    return undefined;
  }

  /** Checks the apiserver makes before it proxies anything (strategy.go streamLocation). */
  private apiserverCheck(kind: Kind, pod: KObject, q: URLSearchParams): string {
    const container = kind === 'portforward' ? '' : validateContainer(q.get('container') ?? '', pod);
    if (!(pod as Obj).spec?.nodeName) throw badRequest(`pod ${pod.metadata.name} does not have a host assigned`);
    return container;
  }

  handlePlain(kind: Kind, req: IncomingMessage, res: ServerResponse, pod: KObject): void {
    try {
      const q = new URL(req.url ?? '/', 'http://kube-sim').searchParams;
      this.apiserverCheck(kind, pod, q);
      throw badRequest('Upgrade request required');
    } catch (err) {
      writeStatus(res, err instanceof StatusError ? err : new StatusError(500, 'InternalError', String(err)));
    }
  }

  handleUpgrade(kind: Kind, req: IncomingMessage, socket: Duplex, head: Buffer, pod: KObject): void {
    socket.on('error', () => {});
    let protocol: string;
    let container = '';
    let flags: StreamFlags = { stdin: false, stdout: false, stderr: false, tty: false };
    let argv: string[] = [];
    let ports: number[] = [];
    let deferred: KubeletError | undefined;
    try {
      const q = new URL(req.url ?? '/', 'http://kube-sim').searchParams;
      container = this.apiserverCheck(kind, pod, q);
      const upgrade = String(req.headers.upgrade ?? '').toLowerCase();
      if (upgrade !== 'websocket') throw badRequest(kind === 'portforward' ? PF_MESSAGE : SPDY_MESSAGE);
      const bad = handshakeError(req);
      if (bad) throw new StatusError(bad.status, 'BadRequest', bad.message);
      const offered = offeredProtocols(req.headers['sec-websocket-protocol']);
      if (kind === 'portforward') {
        const p = negotiate(offered, PORTFORWARD_PROTOCOLS);
        if (p === undefined)
          throw badRequest(
            offered.some((o) => o.startsWith('SPDY/'))
              ? PF_MESSAGE
              : `requested protocol(s) are not supported: [${offered.join(' ')}]; supports [${PORTFORWARD_PROTOCOLS.join(' ')}]`,
          );
        protocol = p;
        try {
          ports = parsePorts([...q.getAll('ports'), ...q.getAll('port')]);
        } catch (e) {
          throw badRequest((e as Error).message);
        }
        if (!ports.length) throw badRequest('query parameter "port" is required');
        const ke = this.kubeletCheck(kind, pod, container, flags, argv);
        if (ke) throw kubeletStatus(ke);
      } else {
        const p = negotiate(offered, EXEC_PROTOCOLS);
        if (p === undefined)
          throw badRequest(
            `requested protocol(s) are not supported: [${offered.join(' ')}]; supports [${EXEC_PROTOCOLS.join(' ')}]`,
          );
        protocol = p;
        flags = this.flags(q);
        argv = q.getAll('command');
        if (kind === 'attach') {
          // kubelet GetAttach: the TTY setting is the container's, whatever the client asked.
          const spec = (
            [...((pod as Obj).spec?.containers ?? []), ...((pod as Obj).spec?.initContainers ?? [])] as Obj[]
          ).find((c) => c.name === container);
          flags.tty = !!spec?.tty;
          if (flags.tty) flags.stderr = false;
        }
        const ke = this.kubeletCheck(kind, pod, container, flags, argv);
        if (ke) {
          // v5: the apiserver has already upgraded; the kubelet's answer becomes channel-3 Status.
          if (protocol === V5) deferred = ke;
          else throw kubeletStatus(ke);
        }
      }
    } catch (err) {
      writeStatusOnSocket(
        socket,
        err instanceof StatusError ? err : new StatusError(500, 'InternalError', String(err)),
      );
      // Connection: close was sent; a client that never closes its side must not pin the socket.
      setTimeout(() => socket.destroy(), 2000).unref();
      return;
    }
    acceptHandshake(req, socket, protocol);
    const ep = new WsEndpoint(socket, head);
    this.open.add(ep);
    this.kinds.set(ep, kind);
    ep.on('close', () => {
      this.open.delete(ep);
      this.kinds.delete(ep);
      this.closedAt[kind] = Date.now();
    });
    const conn = new ChannelConn(ep, protocol, {
      highWaterMark: this.host.highWaterMark,
      dropAfterBytes: this.host.faults.current.dropStreamsAfterBytes,
    });
    void this.serve(kind, conn, pod, container, flags, argv, ports, deferred).catch((err) => {
      this.host.log.error({ err }, `${kind} session failed`);
      if (!conn.isClosed) {
        conn.sendStatus(internalStatus(String(err)));
        conn.close();
      }
    });
  }

  private async serve(
    kind: Kind,
    conn: ChannelConn,
    pod: KObject,
    container: string,
    f: StreamFlags,
    argv: string[],
    ports: number[],
    deferred: KubeletError | undefined,
  ): Promise<void> {
    if (kind === 'portforward') {
      const worker = this.host.worker(pod)!;
      await servePortForward(
        conn,
        { netnsPath: worker.net?.hostNetwork ? undefined : worker.net?.netnsPath, sandboxId: worker.sandboxId },
        ports,
      );
      return;
    }
    if (deferred) {
      sendConnected(conn, f);
      conn.sendStatus(internalStatus(`unable to upgrade connection: ${deferred.message}`));
      conn.close();
      return;
    }
    const worker = this.host.worker(pod);
    const inst = worker?.container(container)?.current;
    if (!worker || !inst?.running) {
      sendConnected(conn, f);
      conn.sendStatus(internalStatus(`unable to upgrade connection: container not found ("${container}")`));
      conn.close();
      return;
    }
    if (kind === 'exec') await serveExec(conn, worker, inst, argv, f);
    else await serveAttach(conn, inst, f);
  }

  /** Open WebSocket sessions by kind (for the admin endpoint). */
  /** When the last stream of each kind closed (ms since the epoch): a test measures a disconnect's propagation. */
  readonly closedAt: Partial<Record<Kind, number>> = {};

  openByKind(): Record<Kind, number> {
    const out: Record<Kind, number> = { exec: 0, attach: 0, portforward: 0 };
    for (const k of this.kinds.values()) out[k]++;
    return out;
  }

  stop(): void {
    for (const ep of this.open) ep.terminate();
    this.open.clear();
    this.kinds.clear();
  }
}
