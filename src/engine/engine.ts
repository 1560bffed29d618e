// The generation engine: durable jobs, a queue per provider within its limits, resume after
// a restart, and products stored safely. The order of durable writes is what makes crashes
// harmless:
//   1. the job row (state queued) is saved before anything is sent;
//   2. the provider's request id is saved the moment submit returns;
//   3. a product is stored as media file → sidecar → database row, each atomic, under an id
//      derived from (job id, output index), so a resumed job rewrites the same product
//      instead of adding a second one;
//   4. the job becomes 'succeeded' only after all its products are stored.
import { createHash } from 'node:crypto';
import { promises as fs } from 'node:fs';
import * as path from 'node:path';
import { ProviderError, isProviderError, providerDisplayName, redact } from '../providers/errors.ts';
import { effectiveLimits } from '../providers/net/limits.ts';
import { assertSafeUrl } from '../providers/net/url.ts';
import { markExactIntegers } from '../providers/exactJson.ts';
import type { ProviderRegistry } from '../providers/registry.ts';
import { ACTIVE_STATES, TERMINAL_STATES, type Artifact, type Billing, type Cost, type JobRef, type JobResult, type Logger, type ModelInfo, type Provider, type StatusUpdate } from '../providers/types.ts';
import { checkDownloaded, MediaError, MIN_OUTPUT_SIDE } from '../media/sniff.ts';
import { embedParameters } from '../media/a1111.ts';
import { SharpUnavailableError } from '../media/sharp.ts';
import { newId } from '../storage/ids.ts';
import { isSafeId, productDayDir, ProductStore, projectFile } from '../storage/index.ts';
import { diskFullMessage, isDiskFull } from '../storage/errors.ts';
import type { JobRecord, ProductRecord, ProjectDb } from '../storage/types.ts';
import type { JobSpec } from './paramFile.ts';
import { ImageInputError, ImageSource, imageFieldsOf, resolveImageInputs } from './imageInputs.ts';
import { recordedSeed } from './exactSeed.ts';
import { createSchemaCache } from './schemas.ts';
import { UploadCache } from './uploads.ts';
import type { SpendGuard } from './cost/budgets.ts';
import type { Pricing } from './cost/pricing.ts';

export interface EngineOptions {
  projectDir: string;
  db: ProjectDb;
  providers: ProviderRegistry;
  log: Logger;
  /** Largest accepted output file. */
  downloadLimitBytes?: number;
  pollIntervalMs?: number;
  /** Overall deadline per job, from its submission. */
  jobTimeoutMs?: number;
  /** Loopback http downloads (only under a test/proxy override). */
  allowLoopbackHttp?: boolean;
  makeThumbnails?: boolean;
  /** Largest accepted input image, and where the user raises it (for the message). */
  inputLimitBytes?: number;
  inputLimitHint?: string;
  /** Prices: what a job that ended cost (issue 11). None: costs are not recorded. */
  pricing?: Pricing;
  /** The ledger and budgets: each job's estimate is reserved before it is sent, and settled when
   * it ends. None: nothing is recorded and no budget applies (tests of other things). */
  spending?: SpendGuard;
}

interface EngineEvents {
  job: JobRecord;
  product: ProductRecord;
  thumbnail: { productId: string };
}

type Listener<T> = (value: T) => void;

/** Counts slots per provider so no more than `concurrency` jobs are in flight. */
class Slots {
  private used = 0;
  private readonly waiting: (() => void)[] = [];
  constructor(private readonly limit: () => number) {}
  async acquire(signal: AbortSignal): Promise<void> {
    while (this.used >= this.limit()) {
      await new Promise<void>((resolve, reject) => {
        const onAbort = () => reject(new ProviderError('canceled', 'engine', 'Canceled while waiting in the queue.'));
        signal.addEventListener('abort', onAbort, { once: true });
        this.waiting.push(() => {
          signal.removeEventListener('abort', onAbort);
          resolve();
        });
      });
    }
    this.used++;
  }
  release(): void {
    this.used--;
    this.waiting.shift()?.();
  }
}

export class Engine {
  private readonly listeners: { [K in keyof EngineEvents]: Set<Listener<EngineEvents[K]>> } = { job: new Set(), product: new Set(), thumbnail: new Set() };
  private readonly slots = new Map<string, Slots>();
  private readonly running = new Map<string, { abort: AbortController; done: Promise<void> }>();
  private readonly canceled = new Set<string>();
  private disposed = false;
  private readonly downloadLimit: number;
  private readonly pollIntervalMs: number;
  private readonly jobTimeoutMs: number;
  private readonly images: ImageSource;
  readonly uploads: UploadCache;
  /** Products on disk: stored, and their thumbnails made, only through the store. */
  private readonly store: ProductStore;

  constructor(private readonly opts: EngineOptions) {
    this.store = new ProductStore(opts.projectDir, opts.db);
    this.images = new ImageSource({ projectDir: opts.projectDir, db: async () => opts.db, maxBytes: opts.inputLimitBytes, limitHint: opts.inputLimitHint });
    this.uploads = new UploadCache(opts.db, opts.log, async (id) => opts.providers.contextFor(id)?.getKey());
    this.downloadLimit = opts.downloadLimitBytes ?? 200 * 1024 * 1024;
    this.pollIntervalMs = opts.pollIntervalMs ?? 1000;
    this.jobTimeoutMs = opts.jobTimeoutMs ?? 30 * 60 * 1000;
  }

  on<K extends keyof EngineEvents>(event: K, listener: Listener<EngineEvents[K]>): { dispose(): void } {
    this.listeners[event].add(listener);
    return { dispose: () => this.listeners[event].delete(listener) };
  }

  private emit<K extends keyof EngineEvents>(event: K, value: EngineEvents[K]): void {
    for (const l of this.listeners[event]) {
      try {
        l(value);
      } catch (e) {
        this.opts.log.warn(`listener for ${event} failed: ${e instanceof Error ? e.message : String(e)}`);
      }
    }
  }

  private provider(id: string): Provider {
    const p = this.opts.providers.get(id);
    if (!p) throw new ProviderError('not_found', id, `Unknown provider "${id}". Use one of: ${this.opts.providers.list().map((x) => x.id).join(', ')}.`);
    return p;
  }

  private modelInfo(provider: string, model: string): ModelInfo | undefined {
    return this.opts.providers.models().find((m) => m.provider === provider && m.id === model);
  }

  private slotsFor(provider: string): Slots {
    let s = this.slots.get(provider);
    if (!s) {
      s = new Slots(() => effectiveLimits(provider, this.opts.providers.contextFor(provider).limits).concurrency);
      this.slots.set(provider, s);
    }
    return s;
  }

  private async save(job: JobRecord, durable = false): Promise<void> {
    job.updatedAt = new Date().toISOString();
    await this.opts.db.putJob(job);
    if (durable) await this.opts.db.flush();
    this.emit('job', { ...job });
  }

  /** Persist the jobs (durably), then start them. Returns the stored records at once. */
  async submit(specs: JobSpec[], opts: { batchId?: string; sourceFile?: string; estimates?: (Cost | null)[] } = {}): Promise<JobRecord[]> {
    if (this.disposed) throw new Error('The engine is closed.');
    for (const s of specs) this.provider(s.provider);
    const now = new Date().toISOString();
    const jobs: JobRecord[] = specs.map((s, i) => ({
      id: newId(),
      provider: s.provider,
      model: s.model,
      input: s.input,
      state: 'queued',
      sourceFile: opts.sourceFile,
      batchId: opts.batchId,
      productIds: [],
      attempts: 0,
      ...(opts.estimates?.[i] !== undefined ? { estimate: opts.estimates[i] } : {}),
      createdAt: now,
      updatedAt: now,
    }));
    for (const j of jobs) await this.opts.db.putJob(j);
    await this.opts.db.flush();
    for (const j of jobs) {
      this.opts.log.info(`job ${j.id} queued: ${j.provider} ${j.model}`);
      this.emit('job', { ...j });
      this.start(j);
    }
    return jobs.map((j) => ({ ...j }));
  }

  /** Pick up every unfinished job from the database. Returns how many were resumed. */
  async resume(): Promise<number> {
    const listed = await this.opts.db.listJobs({ states: [...ACTIVE_STATES] });
    // A job row names the files its products get: one whose id or date we could not have made
    // (a database from elsewhere) is never run, so it can never write outside products/.
    const open = listed.filter((j) => {
      const ours = isSafeId(j.id) && Number.isFinite(Date.parse(j.createdAt));
      if (!ours) this.opts.log.warn(`job ${JSON.stringify(String(j.id).slice(0, 80))} is not resumed: its id or date is not one Art Factory makes (run Verify Project)`);
      return ours;
    });
    // A process killed while storing a product or a thumbnail left a temp file next to it.
    await this.store.removeStaleTemps('.artfactory/thumbs', '.artfactory');
    for (const dir of new Set(open.map((j) => productDayDir(j.createdAt)))) await this.store.removeStaleTemps(dir, 'products');
    let n = 0;
    for (const j of open) {
      if (this.running.has(j.id)) continue;
      // Whatever it stored before the crash is kept, even if the job fails this time.
      await this.restoreRows(j);
      this.opts.log.info(`job ${j.id} resumed (${j.state}${j.requestId ? `, request ${j.requestId.slice(0, 24)}` : ''})`);
      this.start(j);
      n++;
    }
    return n;
  }

  private start(job: JobRecord): void {
    const abort = new AbortController();
    const done = this.run(job, abort.signal)
      .catch((e: unknown) => this.opts.log.error(`job ${job.id}: ${e instanceof Error ? e.message : String(e)}`))
      .finally(() => this.running.delete(job.id));
    this.running.set(job.id, { abort, done });
  }

  private async run(job: JobRecord, signal: AbortSignal): Promise<void> {
    const provider = this.provider(job.provider);
    await this.rememberKey(job.provider);
    const slots = this.slotsFor(job.provider);
    try {
      await slots.acquire(signal);
    } catch {
      return this.finishCanceled(job);
    }
    try {
      if (!job.requestId) {
        job.attempts++;
        // Its estimate is reserved (and written to the ledger) before anything is sent.
        await this.reserve(job, signal);
        const input = await this.resolveImages(job, provider, signal);
        // A seed past 2^53 is held as its digits and sent as the exact JSON integer (exactJson.ts).
        const seedField = this.modelInfo(job.provider, job.model)?.seedField ?? 'seed';
        const submitted = await provider.submit({ model: job.model, input: markExactIntegers(input, [seedField]), signal });
        job.requestId = submitted.requestId;
        job.handle = submitted.handle;
        job.state = 'submitted';
        job.submittedAt = new Date().toISOString();
        await this.save(job, true); // the request id is durable before we wait for anything
        this.opts.log.info(`job ${job.id} submitted to ${job.provider}: request ${submitted.requestId.slice(0, 40)}`);
        if (this.canceled.has(job.id)) await provider.cancel(this.ref(job)).catch(() => undefined);
      }
      const ref = this.ref(job);
      const elapsed = Date.now() - Date.parse(job.submittedAt ?? job.createdAt);
      let last: StatusUpdate | undefined;
      for await (const u of provider.watch(ref, { signal, intervalMs: this.pollIntervalMs, timeoutMs: Math.max(0, this.jobTimeoutMs - elapsed) })) {
        last = u;
        if (u.logs?.length) for (const line of u.logs) this.opts.log.info(`job ${job.id} [${job.provider}] ${this.scrub(line)}`);
        if (u.state === 'succeeded') break;
        const changed = u.state !== job.state || u.providerStatus !== job.providerStatus || u.queuePosition !== job.queuePosition || u.progress !== job.progress;
        job.state = u.state === 'failed' || u.state === 'canceled' ? job.state : u.state;
        job.providerStatus = u.providerStatus;
        job.queuePosition = u.queuePosition;
        job.progress = u.progress;
        if (u.state === 'failed' || u.state === 'canceled') break;
        if (changed) await this.save(job);
      }
      if (!last) throw new ProviderError('bad_response', job.provider, 'The job ended without a status.');
      if (last.state === 'canceled') return this.finishCanceled(job);
      if (last.state === 'failed') {
        let err = last.error ?? new ProviderError('failed', job.provider, `The ${job.provider} job failed.`);
        // We stopped watching (deadline, or status checks that kept failing) while the provider
        // may still be running (and billing) it: stop it there, and say so.
        if (err.kind === 'timeout' || (last.providerStatus === 'error' && ['network', 'provider_down', 'rate_limited'].includes(err.kind))) err = await this.cancelAbandoned(job, provider, ref, err);
        return this.finishFailed(job, err);
      }
      const result = await provider.result(ref, signal);
      job.cost = await this.costOf(job, result.billing, result.artifacts.length);
      await this.storeOutputs(job, result, signal);
      job.state = 'succeeded';
      job.progress = 1;
      job.queuePosition = undefined;
      job.error = undefined;
      job.finishedAt = new Date().toISOString();
      // The ledger first: whoever hears that the job ended finds its cost recorded.
      await this.settle(job);
      await this.save(job, true);
      this.opts.log.info(`job ${job.id} succeeded: ${job.productIds.length} product${job.productIds.length === 1 ? '' : 's'}`);
    } catch (e) {
      if (signal.aborted || (isProviderError(e) && e.kind === 'canceled')) {
        if (this.disposed && !this.canceled.has(job.id)) return; // closing: leave it for resume
        return this.finishCanceled(job);
      }
      return this.finishFailed(job, e);
    } finally {
      slots.release();
    }
  }

  /** Reserve the job's estimate under the budgets (throws ProviderError('budget') when it does
   * not fit). A job without an estimate yet (one stored before estimates, or from a caller that
   * gave none) is estimated here. */
  private async reserve(job: JobRecord, signal: AbortSignal): Promise<void> {
    if (!this.opts.spending) return;
    if (job.estimate === undefined && this.opts.pricing) {
      const e = (await this.opts.pricing.estimateJobs([{ provider: job.provider, model: job.model, input: job.input }], signal)).jobs[0];
      job.estimate = 'cost' in e ? e.cost : null;
    }
    await this.opts.spending.reserve({ job: job.id, batch: job.batchId, provider: job.provider, model: job.model, estimate: job.estimate ?? null });
  }

  /** What the job cost, from what the provider billed; undefined when nothing can be said. */
  private async costOf(job: JobRecord, billing: Billing | undefined, outputs: number): Promise<Cost | undefined> {
    if (!this.opts.pricing) return billing?.cost;
    try {
      return await this.opts.pricing.actualCost(job, billing, outputs, job.requestId !== undefined);
    } catch (e) {
      this.opts.log.warn(`job ${job.id}: its cost could not be worked out: ${e instanceof Error ? e.message : String(e)}`);
      return undefined;
    }
  }

  /** Record in the ledger what an ended job cost. A failure here never changes the job's end. */
  private async settle(job: JobRecord): Promise<void> {
    if (!this.opts.spending) return;
    await this.opts.spending
      .settle({ job: job.id, provider: job.provider, model: job.model, state: job.state, cost: job.cost ?? null })
      .catch((e: unknown) => this.opts.log.error(`job ${job.id}: the ledger could not record its cost: ${e instanceof Error ? e.message : String(e)}`));
  }

  /** The input to send: image paths and `product:` references read, checked and uploaded (see
   * imageInputs.ts). The job keeps its input as written and records lineage and what was sent. */
  private async resolveImages(job: JobRecord, provider: Provider, signal: AbortSignal): Promise<Record<string, unknown>> {
    const fields = imageFieldsOf(this.modelInfo(job.provider, job.model), await createSchemaCache(this.opts.projectDir).get(job.provider, job.model));
    if (fields.length === 0) return job.input;
    const baseDir = job.sourceFile ? path.dirname(projectFile(this.opts.projectDir, job.sourceFile)) : this.opts.projectDir;
    try {
      const r = await resolveImageInputs(job.input, fields, this.images, baseDir, (image) => this.uploads.urlFor(provider, image, signal));
      job.inputs = r.inputs.length ? r.inputs : undefined;
      job.sentInputs = Object.keys(r.sent).length ? r.sent : undefined;
      for (const [field, value] of Object.entries(r.sent)) this.opts.log.info(`job ${job.id} ${field}: ${this.scrub(value)}`);
      return r.input;
    } catch (e) {
      if (!(e instanceof ImageInputError)) throw e;
      throw new ProviderError('validation', job.provider, `"${e.ref.field}": ${e.message} Nothing was sent.`, { fieldErrors: [{ path: e.ref.at, message: e.message }] });
    }
  }

  /** Cancel a job we gave up watching; the error then says whether that worked. */
  private async cancelAbandoned(job: JobRecord, provider: Provider, ref: JobRef, err: ProviderError): Promise<ProviderError> {
    const name = providerDisplayName(job.provider);
    const extra = { status: err.status, retryAfterMs: err.retryAfterMs, fieldErrors: err.fieldErrors };
    try {
      await provider.cancel(ref);
      return new ProviderError(err.kind, err.provider, `${err.message} The job was canceled at ${name}, so it does not keep running unseen.`, extra);
    } catch (e) {
      const why = this.scrub(e instanceof Error ? e.message : String(e));
      this.opts.log.warn(`job ${job.id}: could not cancel the abandoned job at ${job.provider}: ${why}`);
      return new ProviderError(err.kind, err.provider, `${err.message} Canceling it at ${name} failed too (${why.slice(0, 200)}): check your ${name} dashboard.`, extra);
    }
  }

  private ref(job: JobRecord): JobRef {
    return { model: job.model, requestId: job.requestId!, handle: job.handle };
  }

  /** Provider keys this engine has seen, so a key echoed back in any form is taken out of
   * logs and job rows (the adapters redact too; this is the last line). */
  private readonly keys = new Set<string>();

  private scrub(text: string): string {
    return redact(text, [...this.keys]);
  }

  private async rememberKey(provider: string): Promise<void> {
    const key = await Promise.resolve(this.opts.providers.contextFor(provider)?.getKey()).catch(() => undefined);
    if (key) this.keys.add(key);
  }

  private async finishFailed(job: JobRecord, e: unknown): Promise<void> {
    const err = isProviderError(e)
      ? e
      : e instanceof MediaError
        ? new ProviderError('bad_output', job.provider, e.message)
        : new ProviderError('failed', job.provider, e instanceof Error ? e.message : String(e));
    await this.rememberKey(job.provider);
    job.state = 'failed';
    // A billed failure (fal may bill a refused input) is recorded too; one never sent cost nothing.
    if (err.kind !== 'budget') job.cost = await this.costOf(job, err.billing, 0);
    job.error = isDiskFull(e)
      ? { kind: 'disk_full', message: diskFullMessage("the job's output could not be stored; retry the job once there is room") }
      : { kind: err.kind, message: this.scrub(err.message), fieldErrors: err.fieldErrors };
    job.finishedAt = new Date().toISOString();
    await this.settle(job);
    await this.saveFinal(job);
    this.opts.log.error(`job ${job.id} failed (${job.error.kind}): ${this.scrub(err.message)}`);
  }

  private async finishCanceled(job: JobRecord): Promise<void> {
    job.state = 'canceled';
    job.finishedAt = new Date().toISOString();
    job.error = { kind: 'canceled', message: 'Canceled.' };
    job.cost = await this.costOf(job, undefined, 0);
    await this.settle(job);
    await this.saveFinal(job);
    this.opts.log.info(`job ${job.id} canceled`);
  }

  /** Save a terminal state. If even that cannot be saved (a full disk), the job still ends for
   * everyone listening; the database keeps the write and saves it with the next one. */
  private async saveFinal(job: JobRecord): Promise<void> {
    try {
      await this.save(job, true);
    } catch (e) {
      this.opts.log.error(`job ${job.id}: could not save its ${job.state} state: ${e instanceof Error ? e.message : String(e)}`);
      this.emit('job', { ...job });
    }
  }

  /** Cancel a job: locally at once, and at the provider when it was submitted. */
  async cancel(jobId: string): Promise<void> {
    this.canceled.add(jobId);
    const job = await this.opts.db.getJob(jobId);
    if (!job || TERMINAL_STATES.includes(job.state)) return;
    if (job.requestId) {
      await this.provider(job.provider)
        .cancel(this.ref(job))
        .catch((e: unknown) => this.opts.log.warn(`job ${jobId}: the provider did not confirm the cancel: ${e instanceof Error ? e.message : String(e)}`));
    }
    const run = this.running.get(jobId);
    if (run) {
      run.abort.abort();
      await run.done;
    } else {
      await this.finishCanceled(job);
    }
  }

  /** Run a failed or canceled job again as a new submission. */
  async retry(jobId: string): Promise<JobRecord> {
    const job = await this.opts.db.getJob(jobId);
    if (!job) throw new Error(`No job ${jobId}.`);
    if (!TERMINAL_STATES.includes(job.state) || job.state === 'succeeded') return job;
    this.canceled.delete(jobId);
    Object.assign(job, { state: 'queued', requestId: undefined, handle: undefined, error: undefined, finishedAt: undefined, submittedAt: undefined, progress: undefined, queuePosition: undefined, providerStatus: undefined, cost: undefined });
    await this.save(job, true);
    this.start(job);
    return { ...job };
  }

  /** Resolves when every job is in a terminal state. */
  async waitFor(jobIds: string[], signal?: AbortSignal): Promise<JobRecord[]> {
    const pending = new Set(jobIds);
    const latest = new Map<string, JobRecord>();
    return new Promise<JobRecord[]>((resolve, reject) => {
      let settled = false;
      const finish = () => {
        if (settled || pending.size > 0) return;
        settled = true;
        sub.dispose();
        resolve(jobIds.map((id) => latest.get(id)!));
      };
      const sub = this.on('job', (j) => {
        if (!pending.has(j.id) && !latest.has(j.id)) return;
        latest.set(j.id, j);
        if (TERMINAL_STATES.includes(j.state)) {
          pending.delete(j.id);
          finish();
        }
      });
      signal?.addEventListener('abort', () => {
        if (settled) return;
        settled = true;
        sub.dispose();
        reject(new ProviderError('canceled', 'engine', 'Stopped waiting.'));
      });
      void Promise.all(
        jobIds.map(async (id) => {
          const j = await this.opts.db.getJob(id);
          if (j && !latest.has(id)) latest.set(id, j);
          if (j && TERMINAL_STATES.includes(j.state)) pending.delete(id);
        }),
      ).then(finish, reject);
    });
  }

  /** Download (or take) each artifact, check it, and store it as a product. */
  private async storeOutputs(job: JobRecord, result: JobResult, signal: AbortSignal): Promise<void> {
    if (result.artifacts.length === 0) throw new ProviderError('bad_output', job.provider, `${job.provider} reported success but returned no output. Retry the job; if it happens again, open the log.`);
    const info = this.modelInfo(job.provider, job.model);
    const ids: string[] = [];
    for (const [i, artifact] of result.artifacts.entries()) {
      const id = `${job.id}-${i}`;
      ids.push(id);
      if (await this.opts.db.getProduct(id)) continue; // stored before a restart
      const bytes = await this.fetchArtifact(job.provider, artifact, signal).catch(async (e: unknown) => {
        // A 4xx on the download: the adapter may have a fresh URL (Civitai's signed URLs expire
        // within minutes, so a big batch outlives them) or know the output is gone (Replicate).
        const provider = this.provider(job.provider);
        if (!provider.refreshArtifact || !isProviderError(e) || !e.status || e.status < 400 || e.status >= 500) throw e;
        return this.fetchArtifact(job.provider, await provider.refreshArtifact(this.ref(job), artifact, e.status, signal), signal);
      });
      const checked = await checkDownloaded(bytes, artifact.mediaType, { minSide: artifact.kind === 'image' ? MIN_OUTPUT_SIDE : 1 }).catch((e: unknown) => {
        throw e instanceof MediaError ? new ProviderError('bad_output', job.provider, `Output ${i + 1}: ${e.message} Retry the job; if the output is broken again, open the log and report the model.`) : e;
      });
      let product = this.productRecord(job, result, info, id, i, checked, artifact);
      let stored = bytes;
      if (checked.mediaType === 'image/png') stored = embedParameters(bytes, { ...product, input: job.input }, JSON.stringify({ ...product, bytes: undefined, sha256: undefined }));
      product.bytes = stored.length;
      product.sha256 = createHash('sha256').update(stored).digest('hex');
      const poster = product.kind === 'video' && artifact.posterUrl ? await this.fetchPoster(job, artifact.posterUrl, signal) : undefined;
      // File → poster → sidecar → row; a failed sidecar takes the files away again (the retry writes both).
      product = await this.store.put(product, stored, { poster });
      this.opts.log.info(`job ${job.id} stored ${product.file} (${Math.round(stored.length / 1024)} KB)`);
      this.emit('product', { ...product });
      if (this.opts.makeThumbnails !== false) this.thumbnail(product);
    }
    await this.restoreRows(job, ids);
    job.productIds = ids;
  }

  /** A product stored just before a crash has its file and sidecar but maybe no row: put the
   * row back from the sidecar. Products of a job are named `<job id>-<index>`: the ids, when
   * known, or else whatever the job's day folder holds under its id (on resume). */
  private async restoreRows(job: JobRecord, ids?: string[]): Promise<void> {
    const day = productDayDir(job.createdAt);
    const names = ids ? ids.map((id) => `${id}.json`) : (await fs.readdir(projectFile(this.opts.projectDir, day)).catch(() => [] as string[])).filter((n) => n.startsWith(`${job.id}-`) && /-\d+\.json$/.test(n));
    for (const name of names) {
      if (await this.opts.db.getProduct(name.slice(0, -5))) continue;
      const sidecar = await this.store.sidecarAt(`${day}/${name}`).catch(() => undefined);
      if (sidecar?.jobId === job.id) {
        await this.opts.db.putProduct(sidecar);
        this.opts.log.info(`job ${job.id}: ${sidecar.file} was stored before a restart; its index row is back`);
      }
    }
  }

  /** A video's poster frame, when the provider gives one: checked like any image (the store
   * puts it beside the video as `<id>.poster.<ext>`). A bad poster never fails the job (the
   * video is what was asked for); it is logged and left out. */
  private async fetchPoster(job: JobRecord, url: string, signal: AbortSignal): Promise<{ bytes: Uint8Array; ext: string } | undefined> {
    try {
      const bytes = await this.fetchArtifact(job.provider, { url, kind: 'image' }, signal);
      const checked = await checkDownloaded(bytes, undefined, { minSide: MIN_OUTPUT_SIDE });
      if (checked.kind !== 'image') throw new MediaError('mismatch', `the poster is ${checked.mediaType}, not an image`);
      return { bytes, ext: checked.ext };
    } catch (e) {
      if (signal.aborted) throw e;
      this.opts.log.warn(`job ${job.id}: the poster frame was not stored (${this.scrub(e instanceof Error ? e.message : String(e))}); the video is kept without one`);
      return undefined;
    }
  }

  private thumbnail(product: ProductRecord): void {
    this.store
      .thumbnail(product)
      .then((t) => t && this.emit('thumbnail', { productId: product.id }))
      .catch((e: unknown) => {
        // Without sharp the gallery shows the original; that is said once (sharp.ts), not per product.
        if (!(e instanceof SharpUnavailableError)) this.opts.log.warn(`thumbnail for ${product.id}: ${e instanceof Error ? e.message : String(e)}`);
      });
  }

  private productRecord(job: JobRecord, result: JobResult, info: ModelInfo | undefined, id: string, index: number, checked: { mediaType: string; ext: string; kind: 'image' | 'video' | 'audio'; width?: number; height?: number }, artifact: Artifact): ProductRecord {
    const promptField = info?.promptField ?? 'prompt';
    const seedField = info?.seedField ?? 'seed';
    const str = (v: unknown) => (typeof v === 'string' ? v : undefined);
    const seedIn = job.input[seedField];
    return {
      id,
      jobId: job.id,
      provider: job.provider,
      model: job.model,
      modelVersion: result.modelVersion,
      kind: checked.kind,
      mediaType: checked.mediaType,
      // Our own path: never a provider-given name.
      file: `${productDayDir(job.createdAt)}/${id}.${checked.ext}`,
      width: checked.width ?? artifact.width,
      height: checked.height ?? artifact.height,
      bytes: 0,
      sha256: '',
      input: job.input,
      prompt: str(job.input[promptField]),
      negativePrompt: str(job.input.negative_prompt) ?? str(job.input.negativePrompt),
      seed: recordedSeed(result.seed, seedIn),
      requestId: job.requestId,
      timings: result.timings,
      // The job's cost shared among its outputs, so a selection's sum is what was spent.
      ...(job.cost ? { cost: { ...job.cost, amount: Math.round((job.cost.amount / result.artifacts.length) * 1e8) / 1e8 } } : {}),
      sourceFile: job.sourceFile,
      createdAt: new Date(Date.parse(job.createdAt) + index).toISOString(),
      favorite: false,
      rating: 0,
      tags: [],
      notes: '',
      outputIndex: index,
      ...(job.inputs?.length ? { inputs: job.inputs } : {}),
    };
  }

  /** The artifact's bytes: in memory already, or downloaded with a size cap. */
  private async fetchArtifact(providerId: string, a: Artifact, signal: AbortSignal): Promise<Uint8Array> {
    if (a.data) {
      if (a.data.length > this.downloadLimit) throw new ProviderError('bad_output', providerId, `The output is ${a.data.length} bytes, over the ${this.downloadLimit}-byte limit: raise artFactory.downloads.maxMegabytes to accept it.`);
      return a.data;
    }
    if (!a.url) throw new ProviderError('bad_output', providerId, 'The provider returned an output without a URL. Open the log and report the model.');
    // Refuse file:, relative and plain-http URLs before anything is fetched (the fetch rewrites overrides).
    assertSafeUrl(a.url, providerId, { allowLoopbackHttp: this.opts.allowLoopbackHttp });
    const res = await this.opts.providers.downloadFetch(providerId)(a.url, { signal });
    if (!res.ok) throw new ProviderError('bad_output', providerId, `Downloading the output failed with HTTP ${res.status}. Retry the job (provider outputs expire after a while).`, { status: res.status });
    const declared = Number(res.headers.get('content-length') ?? NaN);
    const limitText = `${Math.round(this.downloadLimit / 1024 / 1024)} MB`;
    if (Number.isFinite(declared) && declared > this.downloadLimit) {
      await res.body?.cancel().catch(() => undefined);
      throw new ProviderError('bad_output', providerId, `The output is ${Math.round(declared / 1024 / 1024)} MB, over the ${limitText} limit: raise artFactory.downloads.maxMegabytes to accept it.`);
    }
    const chunks: Uint8Array[] = [];
    let total = 0;
    if (!res.body) throw new ProviderError('bad_output', providerId, 'The download had no body. Retry the job.');
    const reader = res.body.getReader();
    try {
      for (;;) {
        const { done, value } = await reader.read();
        if (done) break;
        total += value.length;
        if (total > this.downloadLimit) {
          await reader.cancel().catch(() => undefined);
          throw new ProviderError('bad_output', providerId, `The output is larger than the ${limitText} limit: raise artFactory.downloads.maxMegabytes to accept it.`);
        }
        chunks.push(value);
      }
    } catch (e) {
      if (isProviderError(e)) throw e;
      throw new ProviderError('bad_output', providerId, `The download broke off after ${total} bytes (${e instanceof Error ? e.message : String(e)}). Retry the job.`);
    }
    if (Number.isFinite(declared) && total !== declared) throw new ProviderError('bad_output', providerId, `The download is truncated: ${total} of ${declared} bytes. Retry the job.`);
    return Buffer.concat(chunks);
  }

  /** Stop watching (jobs stay as they are in the database and resume next time). */
  dispose(): void {
    this.disposed = true;
    for (const r of this.running.values()) r.abort.abort();
  }

  /** Wait until every running job has settled (used after dispose in tests and the CLI). */
  async idle(): Promise<void> {
    await Promise.all([...this.running.values()].map((r) => r.done));
  }
}
