/**
 * @module sim/auth/legacy-tokens
 * The token controller's part for `kubernetes.io/service-account-token` Secrets
 * (pkg/controller/serviceaccount/tokens_controller.go): a Secret of that type naming a service
 * account (annotation kubernetes.io/service-account.name) is filled with a legacy token, ca.crt and
 * namespace, and annotated with the account's UID; deleting the account deletes its token Secrets.
 * Runs after the write, as the controller does.
 */
import type { KObject } from '../types.js';
import { defOf, type ResourceDef } from '../store/resources.js';
import type { Store, StoreEvent } from '../store/store.js';
import type { ServiceAccountTokens } from './tokens.js';

type Obj = Record<string, any>;
const SECRETS = defOf({ group: '', resource: 'secrets' });
const SA = defOf({ group: '', resource: 'serviceaccounts' });
const TYPE = 'kubernetes.io/service-account-token';
const NAME_ANN = 'kubernetes.io/service-account.name';
const UID_ANN = 'kubernetes.io/service-account.uid';

export function installLegacyTokenController(store: Store, tokens: ServiceAccountTokens, caPem: string): void {
  const fill = (ns: string, name: string) => {
    const s = store.get(SECRETS, ns, name) as Obj | undefined;
    if (!s || s.type !== TYPE || s.metadata.deletionTimestamp || s.data?.token) return;
    const saName = s.metadata.annotations?.[NAME_ANN];
    const sa = saName ? store.get(SA, ns, saName) : undefined;
    if (!sa) return;
    const uid = s.metadata.annotations?.[UID_ANN];
    if (uid && uid !== sa.metadata.uid) return;
    const token = tokens.mintLegacy(sa, s as KObject);
    store.mutate(SECRETS, ns, name, (o: KObject) => {
      const x = o as Obj;
      x.metadata.annotations = { ...(x.metadata.annotations ?? {}), [UID_ANN]: sa.metadata.uid };
      x.data = {
        ...(x.data ?? {}),
        token: Buffer.from(token).toString('base64'),
        'ca.crt': Buffer.from(caPem).toString('base64'),
        namespace: Buffer.from(ns).toString('base64'),
      };
    });
  };
  store.afterWrite.push((def: ResourceDef, ev: StoreEvent) => {
    const m = ev.object.metadata;
    if (ev.type === 'DELETED') {
      if (def === SA)
        setImmediate(() => {
          for (const s of store.list(SECRETS, m.namespace) as Obj[]) {
            const a = s.metadata.annotations ?? {};
            if (s.type === TYPE && a[NAME_ANN] === m.name && (!a[UID_ANN] || a[UID_ANN] === m.uid))
              store.remove(SECRETS, m.namespace, s.metadata.name);
          }
        });
      return;
    }
    if (def === SECRETS && (ev.object as Obj).type === TYPE && !(ev.object as Obj).data?.token)
      setImmediate(() => fill(m.namespace!, m.name!));
    // A Secret created before its service account is filled once the account exists.
    if (def === SA && ev.type === 'ADDED')
      setImmediate(() => {
        for (const s of store.list(SECRETS, m.namespace) as Obj[])
          if (s.type === TYPE && s.metadata.annotations?.[NAME_ANN] === m.name) fill(m.namespace!, s.metadata.name);
      });
  });
}
