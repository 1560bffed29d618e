// One vocabulary for where a job is, in our own words, wherever a job is shown: the Jobs view,
// the progress notification and the gallery's job tiles. A provider's own status words
// (fal's IN_PROGRESS, Replicate's processing, Civitai's scheduled) stay in the log.
import type { JobState } from './types.ts';

/** The fields of a job (a JobRecord, or a status update) that say where it is. */
export interface JobProgress {
  state: JobState;
  progress?: number;
  /** Jobs ahead of it in the provider's queue, as the provider reports it. */
  queuePosition?: number;
}

const WORDS: Record<JobState, string> = {
  queued: 'Queued',
  submitted: 'Submitted',
  running: 'Running',
  succeeded: 'Done',
  failed: 'Failed',
  canceled: 'Canceled',
};

/** The state's word: Queued (not sent yet), Submitted (waiting at the provider), Running, Done,
 * Failed, Canceled. */
export function jobStateWord(state: JobState): string {
  return WORDS[state] ?? 'Unknown';
}

/** The word and what else is known while it lasts: "Running · 40%", "Submitted · 3 ahead".
 * Progress and queue places are shown only in the state they belong to, so a finished job
 * never reads as running and an idle queue never shows a place. */
export function jobStatusText(j: JobProgress): string {
  const word = jobStateWord(j.state);
  if (j.state === 'running' && j.progress !== undefined && j.progress > 0 && j.progress < 1) return `${word} · ${Math.round(j.progress * 100)}%`;
  if (j.state === 'submitted' && j.queuePosition !== undefined && j.queuePosition > 0) return `${word} · ${j.queuePosition} ahead`;
  return word;
}

/** Several jobs at a glance: "1 of 4 done · 2 running · 1 queued"; one job as jobStatusText. */
export function jobsSummary(jobs: JobProgress[]): string {
  if (jobs.length === 1) return jobStatusText(jobs[0]);
  const count = (s: JobState) => jobs.filter((j) => j.state === s).length;
  const parts = [`${count('succeeded')} of ${jobs.length} done`];
  for (const s of ['running', 'submitted', 'queued', 'failed', 'canceled'] as const) if (count(s)) parts.push(`${count(s)} ${WORDS[s].toLowerCase()}`);
  return parts.join(' · ');
}
