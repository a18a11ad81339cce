/**
 * @module engine/images/registry/proxy
 * HTTP(S) proxies for registry requests, as dockerd uses them (Go's http.ProxyFromEnvironment,
 * golang.org/x/net/http/httpproxy): `HTTPS_PROXY` for https URLs, `HTTP_PROXY` for http ones
 * (upper or lower case), `NO_PROXY` a comma-separated list of exceptions: `*`, a host name (it
 * and its subdomains; a leading `.` means subdomains only), an IP, a CIDR, each optionally with
 * `:port`. Requests to localhost and loopback addresses are never proxied. An http URL goes to
 * the proxy in absolute form; an https one through a `CONNECT` tunnel, TLS end to end with the
 * registry. Credentials in the proxy URL become `Proxy-Authorization: Basic`.
 */
import { request as httpRequest, type ClientRequest, type IncomingMessage, type RequestOptions } from 'node:http';
import { request as httpsRequest } from 'node:https';
import { isIP, type Socket } from 'node:net';
import { connect as tlsConnect } from 'node:tls';

export interface ProxyConfig {
  http?: string;
  https?: string;
  noProxy?: string;
}

export function proxyFromEnv(env: NodeJS.ProcessEnv = process.env): ProxyConfig {
  const pick = (...keys: string[]) => keys.map((k) => env[k]?.trim()).find((v) => !!v);
  const out: ProxyConfig = {};
  const http = pick('HTTP_PROXY', 'http_proxy');
  const https = pick('HTTPS_PROXY', 'https_proxy');
  const noProxy = pick('NO_PROXY', 'no_proxy');
  if (http) out.http = http;
  if (https) out.https = https;
  if (noProxy) out.noProxy = noProxy;
  return out;
}

function ipv4InCidr(ip: string, base: string, bits: number): boolean {
  const num = (a: string) => a.split('.').reduce((n, o) => (n << 8) + Number(o), 0) >>> 0;
  const mask = bits === 0 ? 0 : (~0 << (32 - bits)) >>> 0;
  return (num(ip) & mask) === (num(base) & mask);
}

function isLoopback(host: string): boolean {
  return host === 'localhost' || (isIP(host) === 4 && host.startsWith('127.')) || host === '::1';
}

/** Whether NO_PROXY exempts `url` (httpproxy's useProxy, negated). */
export function bypassed(url: URL, noProxy: string | undefined): boolean {
  const host = url.hostname.replace(/^\[|\]$/g, '').toLowerCase();
  const port = url.port || (url.protocol === 'https:' ? '443' : '80');
  for (const raw of (noProxy ?? '').split(',')) {
    let e = raw.trim().toLowerCase();
    if (!e) continue;
    if (e === '*') return true;
    if (e.includes('/')) {
      const [base, bits] = e.split('/');
      if (isIP(host) === 4 && isIP(base!) === 4 && ipv4InCidr(host, base!, Number(bits))) return true;
      continue;
    }
    let ePort: string | undefined;
    const m = /^(.*):(\d+)$/.exec(e);
    if (m && !(isIP(e) === 6)) {
      e = m[1]!;
      ePort = m[2];
    }
    e = e.replace(/^\[|\]$/g, '');
    if (ePort && ePort !== port) continue;
    if (isIP(e)) {
      if (e === host) return true;
    } else if (e.startsWith('.')) {
      if (host.endsWith(e)) return true;
    } else if (host === e || host.endsWith(`.${e}`)) return true;
  }
  return false;
}

/** The proxy `url` goes through, if any. */
export function proxyFor(url: URL, p: ProxyConfig | undefined): URL | undefined {
  const raw = url.protocol === 'https:' ? p?.https : p?.http;
  if (!raw) return undefined;
  const host = url.hostname.replace(/^\[|\]$/g, '').toLowerCase();
  if (isLoopback(host) || bypassed(url, p?.noProxy)) return undefined;
  try {
    return new URL(raw.includes('://') ? raw : `http://${raw}`);
  } catch {
    return undefined;
  }
}

function proxyAuth(proxy: URL): Record<string, string> {
  if (!proxy.username) return {};
  const creds = `${decodeURIComponent(proxy.username)}:${decodeURIComponent(proxy.password)}`;
  return { 'Proxy-Authorization': `Basic ${Buffer.from(creds).toString('base64')}` };
}

/**
 * An HTTP request to `url` through `proxy`, with the same options and callback as
 * http(s).request. `rejectUnauthorized` in `opts` applies to the registry's certificate.
 */
export function requestViaProxy(
  url: URL,
  proxy: URL,
  opts: RequestOptions & { rejectUnauthorized?: boolean },
  cb: (res: IncomingMessage) => void,
): ClientRequest {
  const toProxy = proxy.protocol === 'https:' ? httpsRequest : httpRequest;
  const proxyPort = Number(proxy.port) || (proxy.protocol === 'https:' ? 443 : 80);
  if (url.protocol === 'http:') {
    // RFC 9112 §3.2.2: absolute-form request target to a proxy.
    return toProxy(
      {
        ...opts,
        host: proxy.hostname,
        port: proxyPort,
        path: url.href,
        headers: { ...(opts.headers as Record<string, string>), Host: url.host, ...proxyAuth(proxy) },
      },
      cb,
    );
  }
  const target = `${url.hostname.replace(/^\[|\]$/g, '')}:${url.port || 443}`;
  const createConnection = (_o: unknown, done: (err: Error | null, socket?: Socket) => void): undefined => {
    const connect = toProxy({
      host: proxy.hostname,
      port: proxyPort,
      method: 'CONNECT',
      path: target,
      headers: { Host: target, ...proxyAuth(proxy) },
      ...(opts.timeout ? { timeout: opts.timeout } : {}),
    });
    connect.once('connect', (res: IncomingMessage, socket: Socket) => {
      if (res.statusCode !== 200) {
        socket.destroy();
        done(
          new Error(
            `proxy ${proxy.host} refused CONNECT ${target}: ${res.statusCode} ${res.statusMessage ?? ''}`.trim(),
          ),
        );
        return;
      }
      const host = url.hostname.replace(/^\[|\]$/g, '');
      // `host` is what the certificate is checked against; SNI only for names (RFC 6066 §3).
      done(
        null,
        tlsConnect({
          socket,
          host,
          ...(isIP(host) ? {} : { servername: host }),
          rejectUnauthorized: opts.rejectUnauthorized !== false,
        }) as unknown as Socket,
      );
    });
    connect.once('timeout', () => connect.destroy(new Error(`proxy ${proxy.host}: CONNECT ${target} timed out`)));
    connect.once('error', (err) => done(err));
    connect.end();
    return undefined;
  };
  // No `agent`: Node uses createConnection only when no agent is given (agent: false makes a new one).
  return httpsRequest(url, { ...opts, createConnection } as RequestOptions, cb);
}
