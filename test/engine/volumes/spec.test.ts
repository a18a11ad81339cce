/**
 * engine/volumes/spec: a create body's mounts resolved as dockerd resolves them (moby
 * daemon/volumes.go registerMountPoints, volume/mounts/linux_parser.go, validate.go).
 */
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { EngineError } from '../../../src/errors.js';
import {
  inspectMount,
  parseApiMount,
  parseBind,
  parseVolumesFrom,
  resolveMounts,
} from '../../../src/engine/volumes/spec.js';

const fails = (fn: () => unknown, category: string, message: string | RegExp) => {
  try {
    fn();
  } catch (err) {
    assert.instance(err, EngineError);
    assert.is((err as EngineError).category, category);
    if (typeof message === 'string') assert.is((err as Error).message, message);
    else assert.match((err as Error).message, message);
    return;
  }
  assert.unreachable('did not throw');
};

test('-v forms: anonymous, named volume, bind with ro/nocopy/propagation', () => {
  assert.equal(parseBind('/data'), { type: 'volume', source: '', target: '/data', readOnly: false, anonymous: true });
  assert.equal(parseBind('db:/var/lib/db'), {
    type: 'volume',
    source: 'db',
    target: '/var/lib/db',
    readOnly: false,
    mode: '',
  });
  assert.equal(parseBind('db:/x:ro,nocopy'), {
    type: 'volume',
    source: 'db',
    target: '/x',
    readOnly: true,
    mode: 'ro,nocopy',
    noCopy: true,
  });
  assert.equal(parseBind('/src/./a/:/dst/:ro,rshared'), {
    type: 'bind',
    source: '/src/a/',
    target: '/dst/',
    readOnly: true,
    fromBinds: true,
    mode: 'ro,rshared',
    propagation: 'rshared',
  });
});

test("-v errors: dockerd's wording", () => {
  fails(() => parseBind('a:b:c:d'), 'invalid', "invalid volume specification: 'a:b:c:d'");
  fails(() => parseBind('db:relative'), 'invalid', /mount path must be absolute/);
  fails(() => parseBind('/src:/'), 'invalid', /destination can't be '\/'/);
  fails(() => parseBind('db:/x:bogus'), 'invalid', 'invalid mode: bogus');
  fails(
    () => parseBind('d:/x'),
    'invalid',
    'volume name is too short, names should be at least two alphanumeric characters',
  );
  fails(() => parseBind('bad$name:/x'), 'invalid', /includes invalid characters for a local volume name/);
});

test('Mounts: volume (labels, driver options, nocopy), bind, tmpfs; validate.go messages', () => {
  assert.equal(
    parseApiMount({
      Type: 'volume',
      Source: 'v1',
      Target: '/v',
      ReadOnly: true,
      VolumeOptions: { NoCopy: true, Labels: { a: 'b' }, DriverConfig: { Name: 'local', Options: { size: '2Gi' } } },
    }),
    {
      type: 'volume',
      source: 'v1',
      target: '/v',
      readOnly: true,
      noCopy: true,
      labels: { a: 'b' },
      driverOpts: { size: '2Gi' },
    },
  );
  assert.equal(parseApiMount({ Type: 'volume', Target: '/anon' }), {
    type: 'volume',
    source: '',
    target: '/anon',
    readOnly: false,
    anonymous: true,
  });
  assert.equal(parseApiMount({ Type: 'bind', Source: '/h', Target: '/c', BindOptions: { Propagation: 'rslave' } }), {
    type: 'bind',
    source: '/h',
    target: '/c',
    readOnly: false,
    propagation: 'rslave',
  });
  assert.equal(parseApiMount({ Type: 'tmpfs', Target: '/t', TmpfsOptions: { SizeBytes: 1024, Mode: 0o1777 } }), {
    type: 'tmpfs',
    source: '',
    target: '/t',
    readOnly: false,
    tmpfsSize: 1024,
    tmpfsMode: 0o1777,
  });
  fails(
    () => parseApiMount({ Type: 'bind', Target: '/c' }),
    'invalid',
    'invalid mount config for type "bind": field Source must not be empty',
  );
  fails(
    () => parseApiMount({ Type: 'volume', Source: 'v1' }),
    'invalid',
    'invalid mount config for type "volume": field Target must not be empty',
  );
  fails(
    () => parseApiMount({ Type: 'tmpfs', Source: 'x', Target: '/t' }),
    'invalid',
    'invalid mount config for type "tmpfs": field Source must not be specified',
  );
  fails(
    () => parseApiMount({ Type: 'weird', Target: '/t' }),
    'invalid',
    'invalid mount config for type "weird": mount type unknown',
  );
  fails(
    () =>
      parseApiMount({ Type: 'volume', Source: 'v1', Target: '/v', VolumeOptions: { DriverConfig: { Name: 'nfs' } } }),
    'not-implemented',
    /volume driver "nfs" is not supported by kuber-api/,
  );
});

test('resolveMounts: Volumes, then Binds, then Mounts; a later one replaces an image VOLUME; duplicates are 400; Tmpfs wins', () => {
  const { mounts, warnings } = resolveMounts({
    Image: 'x',
    Volumes: { '/data': {}, '/logs': {}, '/cache': {} },
    HostConfig: {
      Binds: ['db:/data'],
      Mounts: [{ Type: 'bind', Source: '/h', Target: '/logs', BindOptions: { Propagation: 'shared' } }],
      Tmpfs: { '/cache': 'size=1m' },
    },
  });
  assert.equal(
    mounts.map((m) => [m.type, m.target, m.source, !!m.anonymous]),
    [
      ['volume', '/data', 'db', false],
      ['bind', '/logs', '/h', false],
    ],
  );
  assert.is(warnings.length, 1);
  assert.match(warnings[0]!, 'bind propagation "shared" of /logs is ignored');
  fails(
    () =>
      resolveMounts({
        Image: 'x',
        HostConfig: { Binds: ['a1:/d'], Mounts: [{ Type: 'volume', Source: 'b1', Target: '/d' }] },
      }),
    'invalid',
    'Duplicate mount point: /d',
  );
});

test('--volumes-from: container[:ro|rw]; inherited mounts come after image volumes and before Binds', () => {
  assert.equal(parseVolumesFrom('db'), { container: 'db' });
  assert.equal(parseVolumesFrom('db:ro'), { container: 'db', mode: 'ro' });
  fails(() => parseVolumesFrom('db:zz'), 'invalid', 'invalid mode for volumes-from: zz');
  const inherited = [
    { type: 'volume' as const, source: 'shared', target: '/data', readOnly: true },
    { type: 'bind' as const, source: '/h', target: '/b', readOnly: false },
  ];
  const { mounts } = resolveMounts(
    { Image: 'x', Volumes: { '/data': {} }, HostConfig: { Binds: ['/other:/b'] } },
    inherited,
  );
  assert.equal(
    mounts.map((m) => [m.target, m.source]),
    [
      ['/b', '/other'],
      ['/data', 'shared'],
    ],
  );
});

test("inspect Mounts entries as moby's MountPoint", () => {
  assert.equal(inspectMount({ type: 'bind', source: '/h', target: '/c', readOnly: true, mode: 'ro' }), {
    Type: 'bind',
    Source: '/h',
    Destination: '/c',
    Mode: 'ro',
    RW: false,
    Propagation: 'rprivate',
  });
  assert.equal(inspectMount({ type: 'volume', source: 'v1', target: '/v', readOnly: false }), {
    Type: 'volume',
    Name: 'v1',
    Source: '',
    Destination: '/v',
    Driver: 'local',
    Mode: '',
    RW: true,
    Propagation: '',
  });
});

test.run();
