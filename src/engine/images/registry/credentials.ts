/**
 * @module engine/images/registry/credentials
 * Registry credentials for the kubelet. With dockerd the client sends credentials with each pull
 * and the daemon downloads the layers itself; on Kubernetes the kubelet pulls, so a private image
 * that `docker login` + `docker pull` allowed must be pullable by the kubelet too. kuber-api keeps
 * the username/password credentials of a successful `docker login` (POST /auth) or authenticated
 * pull in one Secret per instance, of type `kubernetes.io/dockerconfigjson` (what `kubectl create
 * secret docker-registry` writes: `{"auths": {<registry>: {username, password, auth}}}`, Docker
 * Hub keyed `https://index.docker.io/v1/` as the kubelet's credential keyring expects), and every
 * Pod of the instance names it in `imagePullSecrets`. The same credentials serve kuber-api's own
 * create-time registry lookups. Identity and registry tokens are Docker-daemon-only and are not
 * kept. The Secret is owned by kuber-api's own Pod in a cluster (garbage-collected with it).
 */
import { createHash } from 'node:crypto';
import type { Kube } from '../../../kube/index.js';
import { isAlreadyExists, isNotFound } from '../../../kube/client.js';
import { LABEL_INSTANCE, LABEL_KIND, LABEL_MANAGED_BY } from '../../model/record.js';
import { credentialKey, DOCKER_HUB } from '../../model/image-ref.js';
import type { RegistryAuth } from '../../backend/images.js';
import { podOwnerRefs } from '../../model/owner.js';

const KEY = '.dockerconfigjson';

interface DockerConfigEntry {
  username?: string;
  password?: string;
  auth?: string;
}

export class RegistryCredentials {
  /** Registry domain (`docker.io`, `ghcr.io`, `127.0.0.1:5000`) -> credentials. */
  private readonly auths = new Map<string, { username: string; password: string }>();
  private mutex: Promise<unknown> = Promise.resolve();
  readonly name: string;

  constructor(
    private readonly kube: Kube,
    private readonly instance: string,
    private readonly owner?: { name: string; uid: string },
  ) {
    this.name = `kapi-regcred-${createHash('sha256').update(instance).digest('hex').slice(0, 8)}`;
  }

  /** Load the instance's Secret, if any (a kuber-api restart keeps what was logged in). */
  async start(): Promise<void> {
    try {
      const s = await this.kube.client.get<{ data?: Record<string, string> }>(this.kube.path('secrets', this.name));
      const doc = JSON.parse(Buffer.from(s.data?.[KEY] ?? '', 'base64').toString('utf8') || '{}') as {
        auths?: Record<string, DockerConfigEntry>;
      };
      for (const [key, e] of Object.entries(doc.auths ?? {})) {
        const domain =
          key === credentialKey(DOCKER_HUB) ? DOCKER_HUB : key.replace(/^https?:\/\//, '').replace(/\/.*$/, '');
        let { username, password } = e;
        if ((!username || password === undefined) && e.auth) {
          const plain = Buffer.from(e.auth, 'base64').toString('utf8');
          username = plain.slice(0, plain.indexOf(':'));
          password = plain.slice(plain.indexOf(':') + 1);
        }
        if (username && password !== undefined) this.auths.set(domain, { username, password });
      }
    } catch (err) {
      if (!isNotFound(err) && !(err instanceof SyntaxError)) throw err;
    }
  }

  credentials(domain: string): RegistryAuth | undefined {
    return this.auths.get(domain);
  }

  /** The Secret Pods name in imagePullSecrets, once there is one. */
  secretName(): string | undefined {
    return this.auths.size ? this.name : undefined;
  }

  /** Keep `auth` for `domain` (username/password only); writes the Secret when it changes. */
  remember(domain: string, auth: RegistryAuth): Promise<void> {
    if (!auth.username || auth.password === undefined) return Promise.resolve();
    const cur = this.auths.get(domain);
    if (cur && cur.username === auth.username && cur.password === auth.password) return Promise.resolve();
    const next = this.mutex
      .catch(() => {})
      .then(async () => {
        this.auths.set(domain, { username: auth.username!, password: auth.password! });
        await this.write();
      });
    this.mutex = next.catch(() => {});
    return next;
  }

  private async write(): Promise<void> {
    const auths: Record<string, DockerConfigEntry> = {};
    for (const [domain, a] of this.auths)
      auths[credentialKey(domain)] = {
        username: a.username,
        password: a.password,
        auth: Buffer.from(`${a.username}:${a.password}`).toString('base64'),
      };
    const data = { [KEY]: Buffer.from(JSON.stringify({ auths })).toString('base64') };
    const { kube } = this;
    try {
      await kube.client.create(kube.path('secrets'), {
        apiVersion: 'v1',
        kind: 'Secret',
        type: 'kubernetes.io/dockerconfigjson',
        metadata: {
          name: this.name,
          namespace: kube.namespace,
          labels: {
            [LABEL_INSTANCE]: this.instance,
            [LABEL_KIND]: 'registry-credentials',
            [LABEL_MANAGED_BY]: 'kuber-api',
          },
          ...podOwnerRefs(this.owner),
        },
        data,
      });
    } catch (err) {
      if (!isAlreadyExists(err)) throw err;
      await kube.client.mergePatch(kube.path('secrets', this.name), { data });
    }
  }
}
