// Folding the history timeline for reading.

export interface Change {
  seq: number;
  time: string;
  principal: string;
  principal_name?: string | null;
  summary: string[];
}

export interface Run {
  change: Change; // the newest of the run: what is shown, previewed and restored
  earlier: number; // further changes folded into it
}

// The server records a comment keystroke by keystroke; a timeline of those is unreadable.
// One person's text edits in a row, less than this apart, read as one entry.
const TYPING_GAP_MS = 120_000;

const isTyping = (c: Change) => c.summary.length === 1 && /^Edited the text\b/.test(c.summary[0]!);

/** Consecutive changes (newest first) folded where one person kept typing. */
export const runs = (changes: Change[]): Run[] => {
  const out: Run[] = [];
  let last: Change | null = null;
  for (const c of changes) {
    const run = out[out.length - 1];
    if (
      run &&
      last &&
      isTyping(c) &&
      isTyping(last) &&
      c.principal === last.principal &&
      Date.parse(last.time) - Date.parse(c.time) < TYPING_GAP_MS
    )
      run.earlier++;
    else out.push({ change: c, earlier: 0 });
    last = c;
  }
  return out;
};
