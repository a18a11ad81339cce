/**
 * @module sim/apiserver/tls
 * A CA and a server certificate for 127.0.0.1/localhost (and the in-cluster names), made with the
 * openssl 3 CLI into the state directory and reused when already there.
 */
import { execFileSync } from 'node:child_process';
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';

export interface TlsMaterial {
  caPath: string;
  caPem: string;
  cert: string;
  key: string;
}

export function ensureCerts(dir: string, hosts: string[] = []): TlsMaterial {
  const caPath = join(dir, 'ca.crt');
  const caKey = join(dir, 'ca.key');
  const crt = join(dir, 'apiserver.crt');
  const key = join(dir, 'apiserver.key');
  if (!existsSync(caPath) || !existsSync(crt) || !existsSync(key)) {
    const run = (args: string[]) => execFileSync('openssl', args, { stdio: ['ignore', 'ignore', 'pipe'] });
    const ec = ['-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:prime256v1', '-nodes'];
    run([
      'req',
      '-x509',
      ...ec,
      '-keyout',
      caKey,
      '-out',
      caPath,
      '-days',
      '3650',
      '-subj',
      '/CN=kube-sim-ca',
      '-addext',
      'basicConstraints=critical,CA:TRUE',
      '-addext',
      'keyUsage=critical,digitalSignature,keyCertSign,cRLSign',
    ]);
    const csr = join(dir, 'apiserver.csr');
    run(['req', ...ec, '-keyout', key, '-out', csr, '-subj', '/CN=kube-apiserver']);
    const san = [
      'IP:127.0.0.1',
      'IP:::1',
      'IP:10.96.0.1',
      'DNS:localhost',
      'DNS:kubernetes',
      'DNS:kubernetes.default',
      'DNS:kubernetes.default.svc',
      'DNS:kubernetes.default.svc.cluster.local',
      ...hosts.map((h) => (/^[\d.]+$|:/.test(h) ? `IP:${h}` : `DNS:${h}`)),
    ];
    const ext = join(dir, 'apiserver.ext');
    writeFileSync(
      ext,
      `subjectAltName=${[...new Set(san)].join(',')}\nextendedKeyUsage=serverAuth\nkeyUsage=critical,digitalSignature,keyEncipherment\nbasicConstraints=CA:FALSE\n`,
    );
    run([
      'x509',
      '-req',
      '-in',
      csr,
      '-CA',
      caPath,
      '-CAkey',
      caKey,
      '-CAcreateserial',
      '-out',
      crt,
      '-days',
      '3650',
      '-extfile',
      ext,
    ]);
  }
  return {
    caPath,
    caPem: readFileSync(caPath, 'utf8'),
    cert: readFileSync(crt, 'utf8'),
    key: readFileSync(key, 'utf8'),
  };
}
