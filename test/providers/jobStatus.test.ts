// One vocabulary of job states, ours, wherever a job is shown (Jobs view, progress, gallery tiles).
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { jobsSummary, jobStatusText } from '../../src/providers/jobStatus.ts';

test("a job's state in our words, with progress and queue places only while they mean something", () => {
  assert.equal(jobStatusText({ state: 'queued' }), 'Queued');
  assert.equal(jobStatusText({ state: 'submitted', queuePosition: 3 }), 'Submitted · 3 ahead');
  assert.equal(jobStatusText({ state: 'submitted', queuePosition: 0 }), 'Submitted', 'next in line: no place to show');
  assert.equal(jobStatusText({ state: 'running', progress: 0.4, queuePosition: 3 }), 'Running · 40%', 'a running job has no queue place');
  // What the engine keeps from the last poll must not leak into a finished job's words.
  assert.equal(jobStatusText({ state: 'succeeded', progress: 1, queuePosition: 3 }), 'Done');
  assert.equal(jobStatusText({ state: 'failed', progress: 0.5 }), 'Failed');
  assert.equal(jobStatusText({ state: 'canceled' }), 'Canceled');
  for (const state of ['queued', 'submitted', 'running', 'succeeded', 'failed', 'canceled'] as const) {
    assert.doesNotMatch(jobStatusText({ state, progress: 0.5, queuePosition: 2 }), /IN_PROGRESS|IN_QUEUE|COMPLETED|processing|starting|queue position/);
  }
});

test('several jobs at a glance', () => {
  assert.equal(jobsSummary([{ state: 'succeeded' }, { state: 'running', progress: 0.5 }, { state: 'running' }, { state: 'queued' }]), '1 of 4 done · 2 running · 1 queued');
  assert.equal(jobsSummary([{ state: 'running', progress: 0.25 }]), 'Running · 25%');
  assert.equal(jobsSummary([{ state: 'succeeded' }, { state: 'failed' }]), '1 of 2 done · 1 failed');
});
