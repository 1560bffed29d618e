// Orchestration workflows as Civitai answers them (zod shapes from the orchestration OpenAPI),
// and what the adapter reads from one: its images, queue position, progress, why it failed,
// timings and Buzz charged.

import { z } from 'zod';
import { artifactFromUrl } from '../artifacts.ts';
import { ProviderError, redact } from '../errors.ts';
import type { Artifact } from '../types.ts';
import { isPlainObject } from './input.ts';
import { NAME, PROVIDER } from './service.ts';

const blobSchema = z
  .object({
    id: z.string().max(500),
    available: z.boolean(),
    type: z.string().nullish(),
    url: z.string().max(8192).nullish(),
    urlExpiresAt: z.string().nullish(),
    jobId: z.string().nullish(),
    width: z.number().nullish(),
    height: z.number().nullish(),
    blockedReason: z.string().nullish(),
  })
  .passthrough();
export type CivitaiBlob = z.infer<typeof blobSchema>;

const jobSchema = z
  .object({
    id: z.string().nullish(),
    status: z.string().nullish(),
    reason: z.string().nullish(),
    blockedReason: z.string().nullish(),
    queuePosition: z.unknown().optional(),
  })
  .passthrough();

const stepSchema = z
  .object({
    $type: z.string().nullish(),
    name: z.string().nullish(),
    status: z.string().nullish(),
    input: z.record(z.string(), z.unknown()).nullish(),
    output: z
      .object({ images: z.array(blobSchema).nullish(), errors: z.array(z.string()).nullish() })
      .passthrough()
      .nullish(),
    jobs: z.array(jobSchema).nullish(),
    estimatedProgressRate: z.number().nullish(),
  })
  .passthrough();

export const workflowSchema = z
  .object({
    id: z.string().min(1).max(200),
    status: z.string(),
    createdAt: z.string().nullish(),
    startedAt: z.string().nullish(),
    completedAt: z.string().nullish(),
    steps: z.array(stepSchema).nullish(),
    transactions: z
      .object({ list: z.array(z.object({ type: z.string(), amount: z.number() }).passthrough()).nullish() })
      .passthrough()
      .nullish(),
  })
  .passthrough();
export type Workflow = z.infer<typeof workflowSchema>;

export const queryWorkflowsSchema = z.object({ items: z.array(z.unknown()).nullish(), next: z.string().nullish() }).passthrough();

export const WORKFLOW_ID = /^[A-Za-z0-9_-]{1,128}$/;
export function assertWorkflowId(id: string): string {
  if (!WORKFLOW_ID.test(id)) throw new ProviderError('not_found', PROVIDER, `"${id.slice(0, 60)}" is not a ${NAME} workflow id.`);
  return id;
}

export function imagesOf(wf: Workflow): CivitaiBlob[] {
  return (wf.steps ?? []).flatMap((s) => s.output?.images ?? []);
}

/** Downloadable: available, with a URL, and not withheld by moderation. */
export function isReady(i: CivitaiBlob): i is CivitaiBlob & { url: string } {
  return !i.blockedReason && i.available && !!i.url;
}

/** Still being written: not available yet (it may become so). */
export function isPending(i: CivitaiBlob): boolean {
  return !i.blockedReason && !i.available;
}

/** Available but without a URL: mature content withheld (the workflow's `allowMatureContent` was
 * false, or `upgradeMode: "manual"` holds it back: guide submitting-work.md). It never comes. */
export function isWithheld(i: CivitaiBlob): boolean {
  return !i.blockedReason && i.available && !i.url;
}

export const withheldHint = 'to receive mature images, set "artFactory.providers.civitai.allowMatureContent" to true (Civitai charges mature images in yellow Buzz), then run the job again';

/** Why a finished workflow has nothing to download: moderation, mature content held back, or
 * images that never became available. */
export function noImageError(images: CivitaiBlob[], key: string | undefined): ProviderError {
  const blocked = images.find((i) => i.blockedReason);
  if (blocked) return blockedError(blocked.blockedReason, key);
  const withheld = images.filter(isWithheld).length;
  if (withheld > 0) {
    return new ProviderError('failed', PROVIDER, `${NAME} withheld ${withheld === 1 ? 'the image' : `all ${withheld} images`} as mature content (available, but without a URL). To receive ${withheld === 1 ? 'it' : 'them'}, ${withheldHint.replace(/^to receive mature images, /, '')}.`);
  }
  return new ProviderError('bad_output', PROVIDER, images.length === 0 ? `The ${NAME} workflow succeeded without any image. Retry the job.` : `${NAME} reported the workflow succeeded, but none of its ${images.length} image${images.length === 1 ? '' : 's'} became available for download. Retry the job.`);
}

export function artifactOf(i: CivitaiBlob & { url: string }): Artifact {
  return { ...artifactFromUrl(i.url), width: positive(i.width), height: positive(i.height) };
}

/** The blob id of a signed blob URL (`…/v2/consumer/blobs/{id}.{ext}?sig=…`). */
export function blobIdOf(url: string): string | undefined {
  try {
    const m = /\/blobs\/([^/]+?)(?:\.[a-z0-9]{2,5})?$/i.exec(new URL(url).pathname);
    return m ? decodeURIComponent(m[1]) : undefined;
  } catch {
    return undefined;
  }
}

function positive(n: number | null | undefined): number | undefined {
  return typeof n === 'number' && n > 0 ? n : undefined;
}

export function queuePositionOf(wf: Workflow): number | undefined {
  let best: number | undefined;
  for (const j of (wf.steps ?? []).flatMap((s) => s.jobs ?? [])) {
    const q = j.queuePosition;
    // Older responses give a number; Civitai's own code reads `{precedingJobs}`.
    const n = typeof q === 'number' ? q : isPlainObject(q) && typeof q.precedingJobs === 'number' ? q.precedingJobs : undefined;
    if (n !== undefined && Number.isFinite(n) && n >= 0 && (best === undefined || n < best)) best = n;
  }
  return best;
}

export function progressOf(wf: Workflow): number | undefined {
  const rates = (wf.steps ?? []).map((s) => s.estimatedProgressRate).filter((r): r is number => typeof r === 'number' && Number.isFinite(r));
  if (rates.length === 0) return undefined;
  return Math.min(1, Math.max(0, rates.reduce((a, b) => a + b, 0) / rates.length));
}

export function reasonsOf(wf: Workflow, key: string | undefined): string {
  const texts = new Set<string>();
  for (const s of wf.steps ?? []) {
    for (const j of s.jobs ?? []) {
      if (j.reason) texts.add(j.blockedReason ? `${j.reason} (${j.blockedReason})` : j.reason);
    }
    for (const e of s.output?.errors ?? []) texts.add(e);
  }
  return redact([...texts].join('; '), [key]).slice(0, 400);
}

function blockedError(blockedReason: string | null | undefined, key: string | undefined): ProviderError {
  const reason = redact(blockedReason ?? '', [key]).slice(0, 200);
  return new ProviderError('failed', PROVIDER, `${NAME}'s moderation blocked the generation${reason ? ` (${reason})` : ''}. Change the prompt or input image; retrying the same input will not help.`);
}

export function failedError(wf: Workflow, key: string | undefined): ProviderError {
  const jobs = (wf.steps ?? []).flatMap((s) => s.jobs ?? []);
  const blocked = jobs.find((j) => j.reason === 'blocked') ?? imagesOf(wf).find((i) => i.blockedReason);
  if (blocked) return blockedError(blocked.blockedReason, key);
  if (jobs.some((j) => j.reason === 'no_provider_available')) {
    return new ProviderError('failed', PROVIDER, `The ${NAME} workflow failed: no Civitai worker can run it with these inputs (no_provider_available). Try another size or checkpoint, or retry later.`);
  }
  const why = reasonsOf(wf, key);
  return new ProviderError('failed', PROVIDER, `The ${NAME} workflow failed${why ? `: ${why}` : ' (Civitai gave no reason)'}. Check the inputs, then retry.`);
}

export function timingsOf(wf: Workflow): Record<string, number> | undefined {
  const t = (s: string | null | undefined) => (s ? Date.parse(s) : NaN);
  const created = t(wf.createdAt);
  const started = t(wf.startedAt);
  const completed = t(wf.completedAt);
  const out: Record<string, number> = {};
  if (Number.isFinite(created) && Number.isFinite(started) && started >= created) out.queue = (started - created) / 1000;
  if (Number.isFinite(started) && Number.isFinite(completed) && completed >= started) out.run = (completed - started) / 1000;
  return Object.keys(out).length ? out : undefined;
}

/** Buzz actually charged: debits minus credits of the workflow's transactions. */
export function costOf(wf: Workflow): { amount: number; currency: string } | undefined {
  const list = wf.transactions?.list ?? [];
  if (list.length === 0) return undefined;
  let amount = 0;
  for (const t of list) {
    if (!Number.isFinite(t.amount)) continue;
    if (t.type === 'debit') amount += t.amount;
    else if (t.type === 'credit') amount -= t.amount;
  }
  return { amount, currency: 'Buzz' };
}
