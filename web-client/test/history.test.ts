import { describe, expect, it } from 'vitest';
import { runs, type Change } from '../src/history/runs';

const change = (seq: number, principal: string, summary: string, secondsAgo: number): Change => ({
  seq,
  principal,
  summary: [summary],
  time: new Date(Date.UTC(2026, 0, 1, 12, 0, 0) - secondsAgo * 1000).toISOString(),
});

describe('history timeline', () => {
  it("folds one person's keystrokes into one entry, newest shown", () => {
    const changes = [
      change(9, 'user:alice', 'Edited the text of annotation “Flaking”', 0),
      change(8, 'user:alice', 'Edited the text of annotation “Flakin”', 1),
      change(7, 'user:alice', 'Edited the text of annotation “Flaki”', 2),
      change(6, 'user:bob', 'Edited the text of annotation “Stain”', 3),
      change(5, 'user:alice', 'Added commenting annotation', 4),
      change(4, 'user:alice', 'Edited the text of annotation “a”', 500),
      change(3, 'user:alice', 'Edited the text of annotation “”', 501),
    ];
    expect(runs(changes).map((r) => [r.change.seq, r.earlier])).toEqual([
      [9, 2],
      [6, 0],
      [5, 0],
      [4, 1],
    ]);
  });

  it('keeps edits apart when the typing stopped for a while', () => {
    const changes = [change(2, 'user:alice', 'Edited the text of x', 0), change(1, 'user:alice', 'Edited the text of x', 600)];
    expect(runs(changes)).toHaveLength(2);
  });
});
