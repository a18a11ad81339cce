/**
 * @module engine/image-views
 * Image JSON without an image store (moby api/types/image InspectResponse / Summary): IDs derived
 * from the reference, no config (kuber-api does not read registries; the kubelet pulls at start).
 */
import { familiarImage, imageId, normaliseImage } from './images.js';
import { versionLess } from './api-version.js';

const GOARCH: Record<string, string> = { x64: 'amd64', arm64: 'arm64', arm: 'arm', ia32: '386', ppc64: 'ppc64le', s390x: 's390x' };

export function imageInspectView(ref: string, apiVersion: string): Record<string, unknown> {
  const n = normaliseImage(ref);
  const digest = /@(sha256:[0-9a-f]{64})$/.exec(n)?.[1];
  const config = { Env: [], Cmd: null, Entrypoint: null, WorkingDir: '', User: '', ExposedPorts: null, Volumes: null, Labels: null, OnBuild: null };
  const out: Record<string, unknown> = {
    Id: imageId(n),
    RepoTags: digest ? [] : [familiarImage(n)],
    RepoDigests: digest ? [familiarImage(n)] : [],
    Parent: '',
    Comment: 'kuber-api has no image store: the kubelet pulls this image when a container starts; its configuration is not read',
    Created: '1970-01-01T00:00:00Z',
    DockerVersion: '',
    Author: '',
    Config: config,
    Architecture: GOARCH[process.arch] ?? process.arch,
    Os: 'linux',
    Size: 0,
    GraphDriver: { Name: 'kubernetes', Data: null },
    RootFS: { Type: 'layers', Layers: [] },
    Metadata: { LastTagTime: '0001-01-01T00:00:00Z' },
  };
  if (versionLess(apiVersion, '1.45')) out.ContainerConfig = { ...config, Hostname: '', Domainname: '', AttachStdin: false, AttachStdout: false, AttachStderr: false, Tty: false, OpenStdin: false, StdinOnce: false, Image: '' };
  if (versionLess(apiVersion, '1.44')) out.VirtualSize = 0;
  return out;
}

export function imageSummaryView(ref: string, containers: number): Record<string, unknown> {
  const n = normaliseImage(ref);
  const digest = /@(sha256:[0-9a-f]{64})$/.exec(n)?.[1];
  return {
    Id: imageId(n),
    ParentId: '',
    RepoTags: digest ? [] : [familiarImage(n)],
    RepoDigests: digest ? [familiarImage(n)] : [],
    Created: 0,
    Size: 0,
    SharedSize: -1,
    Labels: {},
    Containers: containers,
  };
}
