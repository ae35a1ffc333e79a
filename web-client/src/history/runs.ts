// Folding the history timeline for reading.

/** One thing a change did, as data (`what` in the history API). */
export interface What {
  kind: string;
  path: string;
  annotation?: string | null;
  field?: string | null;
}

export interface Change {
  seq: number;
  time: string;
  principal: string;
  principal_name?: string | null;
  summary: string[]; // in English, from the server
  what?: What[];
}

export interface Run {
  change: Change; // the newest of the run: what is shown, previewed and restored
  earlier: number; // further changes folded into it
}

// The server records a comment keystroke by keystroke; a timeline of those is unreadable.
// One person's edits of one text in a row, less than this apart, read as one entry.
const TYPING_GAP_MS = 120_000;

/** The text a change typed in (its path), if editing one text is all it did. Read from
 * the change's data, never from its summary, which is in one language. */
const typedIn = (c: Change): string | null => {
  const what = c.what ?? [];
  if (what.length === 0 || what.some((w) => w.kind !== 'body-edited')) return null;
  const paths = new Set(what.map((w) => w.path));
  return paths.size === 1 ? what[0]!.path : null;
};

/** Consecutive changes (newest first) folded where one person kept typing in one text. */
export const runs = (changes: Change[]): Run[] => {
  const out: Run[] = [];
  let last: Change | null = null;
  for (const c of changes) {
    const run = out[out.length - 1];
    const text = typedIn(c);
    if (
      run &&
      last &&
      text !== null &&
      text === typedIn(last) &&
      c.principal === last.principal &&
      Date.parse(last.time) - Date.parse(c.time) < TYPING_GAP_MS
    )
      run.earlier++;
    else out.push({ change: c, earlier: 0 });
    last = c;
  }
  return out;
};
