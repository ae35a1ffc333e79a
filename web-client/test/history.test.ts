import { describe, expect, it } from 'vitest';
import { runs, type Change, type What } from '../src/history/runs';

const typed = (annotation: string): What => ({ kind: 'body-edited', path: `annotations/${annotation}/body/0/value`, annotation });
const added = (annotation: string): What => ({ kind: 'annotation-added', path: `annotations/${annotation}`, annotation });

const change = (seq: number, principal: string, what: What[], secondsAgo: number, summary = 'anything'): Change => ({
  seq,
  principal,
  summary: what.map(() => summary),
  what,
  time: new Date(Date.UTC(2026, 0, 1, 12, 0, 0) - secondsAgo * 1000).toISOString(),
});

describe('history timeline', () => {
  it("folds one person's keystrokes in one text into one entry, newest shown", () => {
    const changes = [
      change(9, 'user:alice', [typed('a1')], 0),
      change(8, 'user:alice', [typed('a1')], 1),
      change(7, 'user:alice', [typed('a1')], 2),
      change(6, 'user:bob', [typed('a1')], 3),
      change(5, 'user:alice', [added('a1')], 4),
      change(4, 'user:alice', [typed('a1')], 500),
      change(3, 'user:alice', [typed('a1')], 501),
    ];
    expect(runs(changes).map((r) => [r.change.seq, r.earlier])).toEqual([
      [9, 2],
      [6, 0],
      [5, 0],
      [4, 1],
    ]);
  });

  it('folds by what the changes did, not by the words of their summaries', () => {
    // Summaries in another language (or worded differently) fold all the same...
    const french = [change(2, 'user:alice', [typed('a1')], 0, 'Texte modifié'), change(1, 'user:alice', [typed('a1')], 1, 'Texte modifié')];
    expect(runs(french)).toHaveLength(1);
    // ...and English summaries that read alike do not fold changes that did different things.
    const alike = [
      change(2, 'user:alice', [typed('a1')], 0, 'Edited the text of annotation “x”'),
      change(1, 'user:alice', [typed('a2')], 1, 'Edited the text of annotation “x”'),
    ];
    expect(runs(alike)).toHaveLength(2);
    const without = [{ ...change(2, 'user:alice', [], 0), summary: ['Edited the text of x'] }, { ...change(1, 'user:alice', [], 1), summary: ['Edited the text of x'] }];
    expect(runs(without)).toHaveLength(2);
  });

  it('keeps edits apart when the typing stopped for a while', () => {
    const changes = [change(2, 'user:alice', [typed('a1')], 0), change(1, 'user:alice', [typed('a1')], 600)];
    expect(runs(changes)).toHaveLength(2);
  });
});
