/**
 * @module kube/secure-context
 * One TLS context per set of connection options (they are refreshed with the credentials, so a
 * rotated client certificate gets a context of its own). Node builds a new `SecureContext` for
 * every connection given `ca`/`cert`/`key` (lib/_tls_wrap.js: `options.secureContext ||
 * tls.createSecureContext(options)`, which https.Agent and ws both reach), which parses the CA each
 * time and holds an OpenSSL SSL_CTX with its own certificate store for as long as the connection
 * lives: ~1 ms of CPU per exec dial (bench/optimisations.md 2) and ~25 KiB of memory per open
 * pods/log stream (bench/optimisations.md 11).
 */
import { createSecureContext, type SecureContext } from 'node:tls';

/** The TLS material of a set of connection options (src/kube/client.ts ConnectionOptions). */
export interface TlsMaterial {
  ca?: string | Buffer;
  cert?: string | Buffer;
  key?: string | Buffer;
}

const contexts = new WeakMap<TlsMaterial, SecureContext>();

/** The one context of these options, made on first use. */
export function secureContextOf(c: TlsMaterial): SecureContext {
  let ctx = contexts.get(c);
  if (!ctx) {
    ctx = createSecureContext({ ca: c.ca, cert: c.cert, key: c.key });
    contexts.set(c, ctx);
  }
  return ctx;
}
