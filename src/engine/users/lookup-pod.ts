/**
 * @module engine/users/lookup-pod
 * An image's /etc/passwd and /etc/group read by a short-lived Pod of the image, so that `--user
 * name` resolves on any cluster and in the embedded mode (no registry access needed: the kubelet
 * pulls the image as it will for the container). The Pod (`kapi-users-<hash>`) copies a static
 * busybox from the helper image into an emptyDir (init container), then runs it in the image to
 * print both files between markers, and ends; kuber-api reads its log (at most `maxBytes`) and
 * deletes it. It satisfies the `restricted` Pod Security level (kubernetes
 * staging/src/k8s.io/pod-security-admission/policy): non-root numeric user, no privilege
 * escalation, all capabilities dropped, the runtime's default seccomp profile; /etc/passwd and
 * /etc/group are world-readable in every image that has them.
 */
import { createHash } from 'node:crypto';
import { systemError } from '../../errors.js';
import { isAlreadyExists, isNotFound } from '../../kube/client.js';
import { openPodLog } from '../../kube/pod-log.js';
import { watchPodUntil } from '../../kube/pod-watch.js';
import { LABEL_INSTANCE, LABEL_KIND, LABEL_MANAGED_BY } from '../model/record.js';
import type { UserFiles } from './passwd.js';
import type { UsersHost } from './host.js';

const TOOLS = '/.kapi-tools';
const MARK = '--kapi-users-5f3a--';
/** The nobody user: any non-root id satisfies `restricted`; this one exists in most images. */
const LOOKUP_UID = 65534;

/** Prints `MARK passwd`, the file, `MARK group`, the file, `MARK end`; a missing file prints nothing after its mark. */
const SCRIPT = `B=${TOOLS}/busybox; for f in passwd group; do echo "${MARK} $f"; if $B test -r /etc/$f; then $B cat /etc/$f; echo; fi; done; echo "${MARK} end"`;

export function lookupPodName(instance: string, image: string): string {
  return `kapi-users-${createHash('sha256').update(`${instance}\n${image}`).digest('hex').slice(0, 16)}`;
}

const RESTRICTED = {
  allowPrivilegeEscalation: false,
  capabilities: { drop: ['ALL'] },
  runAsNonRoot: true,
  runAsUser: LOOKUP_UID,
  runAsGroup: LOOKUP_UID,
};

/** The lookup Pod of `image` (pure). */
export function lookupPod(
  host: Pick<UsersHost, 'namespace' | 'opts' | 'pullSecretName'>,
  image: string,
): Record<string, unknown> {
  const o = host.opts;
  const owner = o.ownerPod;
  const secret = host.pullSecretName();
  return {
    apiVersion: 'v1',
    kind: 'Pod',
    metadata: {
      name: lookupPodName(o.instance, image),
      namespace: host.namespace,
      labels: { [LABEL_INSTANCE]: o.instance, [LABEL_KIND]: 'users', [LABEL_MANAGED_BY]: 'kuber-api' },
      ...(owner ? { ownerReferences: [{ apiVersion: 'v1', kind: 'Pod', name: owner.name, uid: owner.uid }] } : {}),
    },
    spec: {
      restartPolicy: 'Never',
      terminationGracePeriodSeconds: 0,
      activeDeadlineSeconds: Math.max(30, Math.ceil(o.startTimeoutMs / 1000)), // a safety net if kuber-api goes away meanwhile
      automountServiceAccountToken: false,
      enableServiceLinks: false,
      securityContext: {
        runAsNonRoot: true,
        runAsUser: LOOKUP_UID,
        runAsGroup: LOOKUP_UID,
        seccompProfile: { type: 'RuntimeDefault' },
      },
      ...(secret ? { imagePullSecrets: [{ name: secret }] } : {}),
      initContainers: [
        {
          name: 'kapi-tools',
          image: o.helperImage,
          imagePullPolicy: o.imagePullPolicy,
          command: ['sh', '-c', `cp /bin/busybox /kapi/tools/busybox`],
          volumeMounts: [{ name: 'kapi-tools', mountPath: '/kapi/tools' }],
          securityContext: RESTRICTED,
        },
      ],
      containers: [
        {
          name: 'lookup',
          image,
          imagePullPolicy: o.imagePullPolicy,
          command: [`${TOOLS}/busybox`, 'sh', '-c', SCRIPT],
          volumeMounts: [{ name: 'kapi-tools', mountPath: TOOLS, readOnly: true }],
          securityContext: RESTRICTED,
        },
      ],
      volumes: [{ name: 'kapi-tools', emptyDir: {} }],
    },
  };
}

/** The two files from the Pod's output (pure); undefined when the output is not complete. */
export function parseLookupOutput(text: string): UserFiles | undefined {
  const parts = text.split(new RegExp(`^${MARK} `, 'm'));
  const files: UserFiles = {};
  let ended = false;
  for (const p of parts.slice(1)) {
    const nl = p.indexOf('\n');
    const which = (nl < 0 ? p : p.slice(0, nl)).trim();
    const body = nl < 0 ? '' : p.slice(nl + 1);
    if (which === 'end') ended = true;
    else if ((which === 'passwd' || which === 'group') && body.length) files[which] = body;
  }
  return ended ? files : undefined;
}

type PodLike = {
  metadata: { resourceVersion?: string };
  status?: { phase?: string; initContainerStatuses?: ContainerStatus[]; containerStatuses?: ContainerStatus[] };
};
type ContainerStatus = {
  name: string;
  state?: Record<string, { reason?: string; message?: string; exitCode?: number } | undefined>;
};

/** 'done' once the lookup container ended; a failure text when the Pod cannot get there. */
function verdict(p: PodLike): 'done' | string | undefined {
  const st = p.status;
  for (const cs of [...(st?.initContainerStatuses ?? []), ...(st?.containerStatuses ?? [])]) {
    const w = cs.state?.['waiting'];
    if (
      w?.reason &&
      /ErrImagePull|ImagePullBackOff|InvalidImageName|CreateContainerError|CreateContainerConfigError/.test(w.reason)
    )
      return `${cs.name}: ${w.reason} ${w.message ?? ''}`.trim();
    const t = cs.state?.['terminated'];
    if (t && cs.name === 'lookup') return 'done';
    if (t && t.exitCode !== 0)
      return `${cs.name} exited with code ${t.exitCode}${t.message ? `: ${t.message.trim()}` : ''}`;
  }
  if (st?.phase === 'Succeeded') return 'done';
  if (st?.phase === 'Failed') return 'the pod failed';
  return undefined;
}

/** Run the lookup Pod of `image` and read both files (throws a system error naming why it could not). */
export async function readUserFilesByPod(host: UsersHost, image: string): Promise<UserFiles> {
  const k = host.kube;
  const pod = lookupPod(host, image);
  const name = (pod.metadata as { name: string }).name;
  try {
    await k.client.create(k.path('pods'), pod);
  } catch (err) {
    if (!isAlreadyExists(err))
      throw systemError(`Kubernetes refused the pod that reads /etc/passwd of ${image}: ${(err as Error).message}`);
    // Left by an earlier lookup of the same image (a kuber-api that went away): it still answers.
  }
  try {
    const v = await waitEnded(host, name);
    if (v !== 'done')
      throw systemError(`cannot read /etc/passwd of ${image}: the pod ${name} that reads it did not run: ${v}`);
    const body = await openPodLog(k.client, host.namespace, name, {
      container: 'lookup',
      limitBytes: host.opts.users.maxBytes,
    });
    const chunks: Buffer[] = [];
    for await (const c of body) chunks.push(c as Buffer);
    const files = parseLookupOutput(Buffer.concat(chunks).toString('utf8'));
    if (!files)
      throw systemError(
        `cannot read /etc/passwd of ${image}: the files are larger than --user-lookup-max-bytes (${host.opts.users.maxBytes}) or the image could not run busybox`,
      );
    return files;
  } finally {
    await k.client.delete(k.path('pods', name), { gracePeriodSeconds: 0 }).catch((err) => {
      if (!isNotFound(err)) host.log.debug({ err, pod: name }, 'could not delete the user lookup pod');
    });
  }
}

/** Watch the Pod until the lookup container ends or it cannot (bounded by the start timeout). */
async function waitEnded(host: UsersHost, name: string): Promise<'done' | string> {
  const timeoutMs = host.opts.startTimeoutMs;
  const r = await watchPodUntil(host.kube.client, host.kube.namespace, name, verdict, timeoutMs);
  if (r.kind === 'verdict') return r.verdict;
  return r.kind === 'deleted' ? 'the pod was deleted' : `it did not finish within ${timeoutMs} ms`;
}
