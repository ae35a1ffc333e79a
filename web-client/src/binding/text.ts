// A textarea bound to a Y.Text, so two people typing in one comment merge: local input is
// applied as the one deletion and insertion that changed, never as a whole new text;
// remote edits update the textarea and move the caret with the text around it.

import type * as Y from 'yjs';

export interface Splice {
  index: number;
  remove: number;
  insert: string;
}

/** The one splice that turns `before` into `after` (common prefix and suffix kept). */
export const splice = (before: string, after: string): Splice | null => {
  if (before === after) return null;
  let start = 0;
  const limit = Math.min(before.length, after.length);
  while (start < limit && before.charCodeAt(start) === after.charCodeAt(start)) start++;
  let end = 0;
  while (
    end < limit - start &&
    before.charCodeAt(before.length - 1 - end) === after.charCodeAt(after.length - 1 - end)
  )
    end++;
  return { index: start, remove: before.length - start - end, insert: after.slice(start, after.length - end) };
};

export type Delta = Array<{ insert?: string | object; delete?: number; retain?: number }>;

/** Where a caret at `position` goes when `delta` is applied to the text around it. */
export const moveCaret = (position: number, delta: Delta): number => {
  let index = 0; // position in the old text
  let moved = position;
  for (const op of delta) {
    if (op.retain !== undefined) index += op.retain;
    else if (op.insert !== undefined) {
      // Text inserted before the caret pushes it on; at the caret, it stays put.
      if (index < position) moved += typeof op.insert === 'string' ? op.insert.length : 1;
    } else if (op.delete !== undefined) {
      if (index < position) moved -= Math.min(op.delete, position - index);
      index += op.delete;
    }
  }
  return Math.max(0, moved);
};

export interface TextBinding {
  destroy(): void;
}

/** Keep `area` and `text` equal. `origin` marks local edits (for undo and for telling
 * them apart); `limit` (bytes, UTF-8) is annotations/' MAX_BODY_BYTES. */
export const bindTextarea = (
  area: HTMLTextAreaElement | HTMLInputElement,
  text: Y.Text,
  origin: unknown,
  options: { limit?: number; onTooLong?: () => void; onLocalEdit?: () => void } = {},
): TextBinding => {
  area.value = text.toString();
  let shown = area.value;
  const encoder = new TextEncoder();
  const onInput = () => {
    const next = area.value;
    if (options.limit !== undefined && encoder.encode(next).length > options.limit) {
      // Refused by the server anyway: keep what is shared, say why.
      const caret = area.selectionStart ?? shown.length;
      area.value = shown;
      area.setSelectionRange(Math.min(caret, shown.length), Math.min(caret, shown.length));
      options.onTooLong?.();
      return;
    }
    const change = splice(shown, next);
    shown = next;
    if (!change) return;
    text.doc!.transact(() => {
      if (change.remove) text.delete(change.index, change.remove);
      if (change.insert) text.insert(change.index, change.insert);
    }, origin);
    options.onLocalEdit?.();
  };
  const onChange = (event: Y.YTextEvent, transaction: Y.Transaction) => {
    if (transaction.origin === origin && transaction.local) return;
    const focused = document.activeElement === area;
    const start = area.selectionStart ?? 0;
    const end = area.selectionEnd ?? 0;
    const delta = event.delta as Delta;
    shown = text.toString();
    area.value = shown;
    if (focused) area.setSelectionRange(moveCaret(start, delta), moveCaret(end, delta));
  };
  area.addEventListener('input', onInput);
  text.observe(onChange);
  return {
    destroy() {
      area.removeEventListener('input', onInput);
      text.unobserve(onChange);
    },
  };
};
