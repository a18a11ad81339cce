/**
 * @module operator
 * `kuber-api operator`: the per-job namespace operator (README "The operator"). It watches CI job
 * Pods, gives each a child namespace with policies (controller.ts, reconcile.ts, desired.ts), and
 * brokers credentials for it (broker.ts); serves probes and metrics (server.ts).
 */
import { childLogger, type Logger } from '../log.js';
import { Kube } from '../kube/index.js';
import { CredentialBroker } from './broker.js';
import { Controller } from './controller.js';
import { Metrics } from './metrics.js';
import type { OperatorOptions } from './options.js';
import { Reconciler } from './reconcile.js';
import { serveOperator, type OperatorServer } from './server.js';

export interface RunningOperator {
  kube: Kube;
  controller: Controller;
  reconciler: Reconciler;
  metrics: Metrics;
  server: OperatorServer;
  close(): Promise<void>;
}

export async function runOperator(
  o: OperatorOptions,
  log: Logger = childLogger({ component: 'operator' }),
): Promise<RunningOperator> {
  const kube = Kube.load({
    ...(o.kubeconfig ? { kubeconfig: o.kubeconfig } : {}),
    ...(o.context ? { context: o.context } : {}),
  });
  const metrics = new Metrics();
  const reconciler = new Reconciler(kube.client, { ...o }, metrics, log.child({ part: 'reconcile' }));
  const controller = new Controller(kube.target.kc, kube.client, reconciler, o, log);
  const broker = new CredentialBroker(
    kube.client,
    {
      audiences: o.brokerAudiences,
      tokenTtlSeconds: o.tokenTtlSeconds,
      serviceAccount: o.serviceAccount,
      enforce: o.enforce,
    },
    controller,
    metrics,
    log.child({ part: 'broker' }),
  );
  if (!!o.tlsCertFile !== !!o.tlsKeyFile) throw new Error('--tls-cert-file and --tls-key-file go together');
  const tls = o.tlsCertFile && o.tlsKeyFile ? { certFile: o.tlsCertFile, keyFile: o.tlsKeyFile } : undefined;
  if (!tls)
    log.warn(
      'the credential broker serves plain HTTP: pass --tls-cert-file/--tls-key-file unless a service mesh encrypts the hop',
    );
  const server = await serveOperator(
    o.listenHost,
    o.port,
    { broker, metrics, ready: () => controller.synced },
    log,
    tls,
  );
  try {
    await controller.start();
  } catch (err) {
    await server.close();
    kube.close();
    throw err;
  }
  log.info({ port: server.port, jobNamespaces: o.jobNamespaces, selector: o.jobSelector }, 'operator ready');
  return {
    kube,
    controller,
    reconciler,
    metrics,
    server,
    close: async () => {
      controller.close();
      await server.close();
      kube.close();
    },
  };
}
