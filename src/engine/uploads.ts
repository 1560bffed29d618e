// Hands input images to a provider through its own `upload()`, once per provider and content:
// the URL it returned is kept in the project database (table `uploads`, by sha256) for as long
// as the provider keeps the file (`Provider.uploadTtlMs`) less a margin, so a sweep of many jobs
// over one image uploads it once (also when the jobs start together), and a job resumed after a
// restart does not upload again. `data:` results are not kept: they are made locally, cost no
// request, and would put megabytes into the database.
//
// An upload belongs to the account whose key made it (a fal storage URL may be private to it,
// and a user who switches accounts expects nothing of the old one to be used). So the cache is
// keyed by provider + account fingerprint (a hash of the key, never the key itself): the
// database's `provider` column holds `fal#<fingerprint>`. Rows from before carry the bare
// provider id, belong to no known account, and are never handed out again.
import { createHash } from 'node:crypto';
import { isProviderError } from '../providers/errors.ts';
import type { Logger, Provider } from '../providers/types.ts';
import type { ProjectDb } from '../storage/types.ts';

/** An upload is reused only while the provider will keep it for at least this much longer: the
 * job may wait in the provider's queue before the provider fetches its input. */
export function reuseMarginMs(ttlMs: number): number {
  return Math.min(ttlMs / 2, 30 * 60 * 1000);
}

export interface UploadImage {
  bytes: Uint8Array;
  sha256: string;
  mediaType: string;
}

/** Who an upload belongs to, without the key: 16 hex digits of a SHA-256 over the key (with a
 * label, so the digest is ours alone). "none" for a provider used without a key. */
export function accountFingerprint(key: string | undefined): string {
  if (!key) return 'none';
  return createHash('sha256').update('art-factory upload account\0').update(key).digest('hex').slice(0, 16);
}

export class UploadCache {
  private readonly inflight = new Map<string, Promise<string>>();
  /** Uploads made by this process (counted for the log and tests). */
  uploads = 0;

  constructor(
    private readonly db: ProjectDb,
    private readonly log: Logger,
    /** The provider's key now (read at each use: the user may set another meanwhile). */
    private readonly keyOf: (providerId: string) => Promise<string | undefined>,
    private readonly now: () => number = Date.now,
  ) {}

  /** The cache's name for a provider's current account: `fal#<fingerprint>`. */
  private async scope(provider: Provider): Promise<string> {
    const key = await this.keyOf(provider.id).catch(() => undefined);
    return `${provider.id}#${accountFingerprint(key)}`;
  }

  /** A value the provider accepts for these bytes: a cached upload still usable, or a new one. */
  async urlFor(provider: Provider, image: UploadImage, signal?: AbortSignal): Promise<string> {
    const ttl = provider.uploadTtlMs;
    // Without a documented lifetime every use uploads again (the Provider contract).
    if (!(typeof ttl === 'number' && ttl > 0)) return this.upload(provider, image, signal);
    const scope = await this.scope(provider);
    const key = `${scope}\u0000${image.sha256}`;
    for (;;) {
      const shared = this.inflight.get(key);
      if (!shared) break;
      try {
        return await shared;
      } catch (e) {
        // The job that started the upload was canceled: this one (if still wanted) tries itself.
        if (signal?.aborted || !(isProviderError(e) && e.kind === 'canceled') && !(e instanceof Error && e.name === 'AbortError')) throw e;
      }
    }
    // Set before the first await, so callers that come meanwhile wait for this one.
    const started = (async () => {
      const cached = await this.db.getUpload(scope, image.sha256);
      if (cached && cached.expiresAt - reuseMarginMs(ttl) > this.now()) return cached.url;
      const url = await this.upload(provider, image, signal);
      if (!url.startsWith('data:')) await this.db.putUpload({ provider: scope, sha256: image.sha256, url, expiresAt: Math.min(Number.MAX_SAFE_INTEGER, this.now() + ttl) });
      return url;
    })();
    this.inflight.set(key, started);
    try {
      return await started;
    } finally {
      if (this.inflight.get(key) === started) this.inflight.delete(key);
    }
  }

  private async upload(provider: Provider, image: UploadImage, signal?: AbortSignal): Promise<string> {
    const url = await provider.upload(image.bytes, image.mediaType, signal);
    this.uploads++;
    if (!url.startsWith('data:')) this.log.info(`uploaded an input image to ${provider.id} (${Math.round(image.bytes.length / 1024)} KB, sha256 ${image.sha256.slice(0, 12)}…)`);
    return url;
  }
}
