// URL policy for provider traffic: a base-URL setting rewrites `https://HOST/PATH` to
// `BASE/HOST/PATH` (loopback fakes, proxies), and only https leaves the machine; plain http
// goes only to a loopback host a base URL names.

import { ProviderError, providerDisplayName } from '../errors.ts';

/** With `baseUrl` (e.g. `http://127.0.0.1:PORT`), `https://HOST/PATH?Q` becomes `BASE/HOST/PATH?Q`.
 * URLs already under the base, and non-https URLs, are returned unchanged (assertSafeUrl judges them). */
export function rewriteUrl(url: string, baseUrl?: string): string {
  if (!baseUrl) return url;
  const base = baseUrl.replace(/\/+$/, '');
  if (url === base || url.startsWith(`${base}/`)) return url;
  const m = /^https:\/\/(.+)$/i.exec(url);
  if (!m) return url;
  return `${base}/${m[1]}`;
}

/** The inverse of rewriteUrl: `BASE/HOST/PATH` back to `https://HOST/PATH`. */
export function unrewriteUrl(url: string, baseUrl?: string): string {
  if (!baseUrl) return url;
  const base = baseUrl.replace(/\/+$/, '');
  return url.startsWith(`${base}/`) ? `https://${url.slice(base.length + 1)}` : url;
}

export function isLoopbackHost(hostname: string): boolean {
  const h = hostname.toLowerCase();
  return h === 'localhost' || h === '[::1]' || h === '::1' || /^127\.\d{1,3}\.\d{1,3}\.\d{1,3}$/.test(h);
}

/** https only; plain http only to loopback hosts and only when allowed. */
export function assertSafeUrl(url: string, provider: string, opts: { allowLoopbackHttp?: boolean } = {}): URL {
  let parsed: URL;
  try {
    parsed = new URL(url);
  } catch {
    throw new ProviderError('insecure', provider, `${providerDisplayName(provider)}: refused a relative or malformed URL.`);
  }
  if (parsed.protocol === 'https:') return parsed;
  if (parsed.protocol === 'http:') {
    if (isLoopbackHost(parsed.hostname) && opts.allowLoopbackHttp) return parsed;
    throw new ProviderError(
      'insecure',
      provider,
      isLoopbackHost(parsed.hostname)
        ? `${providerDisplayName(provider)}: plain http to ${parsed.host} is only allowed when a base URL setting points there.`
        : `${providerDisplayName(provider)}: refused plain http to ${parsed.host}; only https is allowed for non-loopback hosts.`,
    );
  }
  throw new ProviderError('insecure', provider, `${providerDisplayName(provider)}: refused a ${parsed.protocol} URL; only https is allowed.`);
}
