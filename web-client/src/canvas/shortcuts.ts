// Keyboard shortcuts of the subject page: one table, used both to handle keys and to list
// them in the "?" dialog.

import { t, type Key } from '../i18n';
import { h } from '../ui/dom';

export type Action =
  | 'select'
  | 'rectangle'
  | 'polygon'
  | 'ellipse'
  | 'point'
  | 'freehand'
  | 'line'
  | 'path'
  | 'undo'
  | 'redo'
  | 'delete'
  | 'zoomIn'
  | 'zoomOut'
  | 'home'
  | 'next'
  | 'previous'
  | 'comment'
  | 'history'
  | 'layers'
  | 'help'
  | 'drawHere'
  | 'nudge'
  | 'resize'
  | 'escape';

interface Shortcut {
  action: Action;
  keys: string[]; // as shown
  match: (e: KeyboardEvent) => boolean;
  label: Key;
  // Also while typing in a text field.
  inFields?: boolean;
}

const mod = (e: KeyboardEvent) => e.ctrlKey || e.metaKey;
const ARROWS = ['ArrowLeft', 'ArrowRight', 'ArrowUp', 'ArrowDown'];
// Arrow keys are the image's only while it has the focus (elsewhere they scroll and move
// through lists and menus as usual).
const inViewer = () => Boolean((document.activeElement as HTMLElement | null)?.closest?.('.viewer'));
const plain = (key: string) => (e: KeyboardEvent) => !mod(e) && !e.altKey && e.key.toLowerCase() === key;

export const SHORTCUTS: Shortcut[] = [
  { action: 'select', keys: ['V'], match: plain('v'), label: 'shortcut.select' },
  { action: 'rectangle', keys: ['R'], match: plain('r'), label: 'shortcut.rectangle' },
  { action: 'polygon', keys: ['P'], match: plain('p'), label: 'shortcut.polygon' },
  { action: 'ellipse', keys: ['E'], match: plain('e'), label: 'shortcut.ellipse' },
  { action: 'point', keys: ['T'], match: plain('t'), label: 'shortcut.point' },
  { action: 'freehand', keys: ['F'], match: plain('f'), label: 'shortcut.freehand' },
  { action: 'line', keys: ['L'], match: plain('l'), label: 'shortcut.line' },
  { action: 'path', keys: ['A'], match: plain('a'), label: 'shortcut.path' },
  { action: 'undo', keys: ['Ctrl', 'Z'], match: (e) => mod(e) && !e.shiftKey && e.key.toLowerCase() === 'z', label: 'shortcut.undo', inFields: true },
  {
    action: 'redo',
    keys: ['Ctrl', 'Shift', 'Z'],
    match: (e) => mod(e) && ((e.shiftKey && e.key.toLowerCase() === 'z') || e.key.toLowerCase() === 'y'),
    label: 'shortcut.redo',
    inFields: true,
  },
  { action: 'delete', keys: ['Delete'], match: (e) => !mod(e) && (e.key === 'Delete' || e.key === 'Backspace'), label: 'shortcut.delete' },
  { action: 'zoomIn', keys: ['+'], match: (e) => !mod(e) && (e.key === '+' || e.key === '='), label: 'shortcut.zoomIn' },
  { action: 'zoomOut', keys: ['-'], match: (e) => !mod(e) && (e.key === '-' || e.key === '_'), label: 'shortcut.zoomOut' },
  { action: 'home', keys: ['0'], match: plain('0'), label: 'shortcut.home' },
  { action: 'next', keys: ['N'], match: plain('n'), label: 'shortcut.next' },
  { action: 'previous', keys: ['Shift', 'N'], match: (e) => !mod(e) && e.shiftKey && e.key.toLowerCase() === 'n', label: 'shortcut.previous' },
  { action: 'comment', keys: ['C'], match: plain('c'), label: 'shortcut.comment' },
  { action: 'history', keys: ['H'], match: plain('h'), label: 'shortcut.history' },
  { action: 'layers', keys: ['Y'], match: plain('y'), label: 'shortcut.layers' },
  { action: 'drawHere', keys: ['D'], match: plain('d'), label: 'shortcut.drawHere' },
  { action: 'nudge', keys: ['←↑→↓'], match: (e) => !mod(e) && !e.shiftKey && !e.altKey && ARROWS.includes(e.key) && inViewer(), label: 'shortcut.nudge' },
  { action: 'resize', keys: ['Shift', '←↑→↓'], match: (e) => !mod(e) && e.shiftKey && !e.altKey && ARROWS.includes(e.key) && inViewer(), label: 'shortcut.resize' },
  { action: 'help', keys: ['?'], match: (e) => !mod(e) && e.key === '?', label: 'shortcut.help' },
  { action: 'escape', keys: ['Esc'], match: (e) => e.key === 'Escape', label: 'shortcut.escape', inFields: true },
];

const isField = (el: Element | null) =>
  el instanceof HTMLInputElement || el instanceof HTMLTextAreaElement || el instanceof HTMLSelectElement || (el as HTMLElement | null)?.isContentEditable;

/** Listen for shortcuts on the window (capture: before Annotorious' own Ctrl+Z). */
export const listen = (handle: (action: Action, event: KeyboardEvent) => boolean): (() => void) => {
  const onKey = (event: KeyboardEvent) => {
    if (document.querySelector('dialog[open]') && event.key !== 'Escape') return;
    const typing = isField(document.activeElement);
    // Shift+N is checked before N.
    const ordered = [...SHORTCUTS].sort((a, b) => b.keys.length - a.keys.length);
    const found = ordered.find((s) => s.match(event) && (!typing || s.inFields));
    if (found && handle(found.action, event)) {
      event.preventDefault();
      event.stopPropagation();
    }
  };
  window.addEventListener('keydown', onKey, true);
  return () => window.removeEventListener('keydown', onKey, true);
};

export const helpDialog = (): HTMLDialogElement => {
  const dialog = h(
    'dialog',
    { class: 'dialog', 'aria-labelledby': 'shortcuts-title' },
    h('h2', { id: 'shortcuts-title' }, t('shortcut.title')),
    h(
      'table',
      { class: 'shortcuts' },
      h('caption', { class: 'visually-hidden' }, t('shortcut.title')),
      h('thead', null, h('tr', null, h('th', { scope: 'col' }, t('shortcut.keys')), h('th', { scope: 'col' }, t('shortcut.does')))),
      h(
        'tbody',
        null,
        SHORTCUTS.map((s) =>
          h('tr', null, h('td', null, s.keys.map((k, i) => [i ? ' + ' : '', h('kbd', null, k)])), h('td', null, t(s.label))),
        ),
      ),
    ),
    h('form', { method: 'dialog' }, h('button', { class: 'primary', value: 'close' }, t('dialog.close'))),
  );
  dialog.addEventListener('close', () => dialog.remove());
  return dialog;
};
