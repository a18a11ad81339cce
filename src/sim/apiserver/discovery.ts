/**
 * @module sim/apiserver/discovery
 * Legacy discovery documents (/version, /api, /api/v1, /apis, /apis/<g>, /apis/<g>/<v>) as the
 * real apiserver serves them (apiserver/pkg/endpoints/discovery). kubectl first asks for aggregated
 * discovery (apidiscovery.k8s.io/v2); answering plain application/json makes client-go fall back to
 * these legacy documents, which is what the apiserver of a 1.2x cluster without the feature does.
 */
import { createHash } from 'node:crypto';
import { apiVersionOf, GROUPS, RESOURCES } from '../store/resources.js';

type Obj = Record<string, any>;

export const VERSION = {
  major: '1',
  minor: '33',
  emulationMajor: '1',
  emulationMinor: '33',
  minCompatibilityMajor: '1',
  minCompatibilityMinor: '32',
  gitVersion: 'v1.33.0',
  gitCommit: '0000000000000000000000000000000000000000',
  gitTreeState: 'clean',
  buildDate: '2025-04-23T00:00:00Z',
  goVersion: 'go1.24.2',
  compiler: 'gc',
  platform: 'linux/amd64',
};

const hash = (s: string) => createHash('sha256').update(s).digest().subarray(0, 8).toString('base64');

export function apiVersions(serverAddress: string): Obj {
  return {
    kind: 'APIVersions',
    versions: ['v1'],
    serverAddressByClientCIDRs: [{ clientCIDR: '0.0.0.0/0', serverAddress }],
  };
}

const groupDoc = (g: string, v: string) => ({
  name: g,
  versions: [{ groupVersion: `${g}/${v}`, version: v }],
  preferredVersion: { groupVersion: `${g}/${v}`, version: v },
});

export function apiGroupList(): Obj {
  return { kind: 'APIGroupList', apiVersion: 'v1', groups: GROUPS.map((g) => groupDoc(g.group, g.version)) };
}

export function apiGroup(group: string): Obj | undefined {
  const g = GROUPS.find((x) => x.group === group);
  return g && { kind: 'APIGroup', apiVersion: 'v1', ...groupDoc(g.group, g.version) };
}

/** APIResourceList of one group/version ('' = core). */
export function apiResourceList(group: string, version: string): Obj | undefined {
  const defs = RESOURCES.filter((r) => r.group === group && r.version === version);
  if (!defs.length) return undefined;
  const resources: Obj[] = [];
  for (const d of defs) {
    const r: Obj = {
      name: d.resource,
      singularName: d.singular,
      namespaced: d.namespaced,
      kind: d.kind,
      verbs: d.verbs,
    };
    if (d.shortNames) r.shortNames = d.shortNames;
    if (d.categories) r.categories = d.categories;
    r.storageVersionHash = hash(`${apiVersionOf(d)}/${d.kind}`);
    resources.push(r);
    for (const [sub, s] of Object.entries(d.subresources ?? {})) {
      const sr: Obj = {
        name: `${d.resource}/${sub}`,
        singularName: '',
        namespaced: d.namespaced,
        kind: s.kind,
        verbs: s.verbs,
      };
      if (s.group) {
        sr.group = s.group;
        sr.version = s.version;
      }
      resources.push(sr);
    }
  }
  resources.sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0));
  return {
    kind: 'APIResourceList',
    apiVersion: 'v1',
    groupVersion: group ? `${group}/${version}` : version,
    resources,
  };
}
