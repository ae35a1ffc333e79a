// The side panel of the subject page: the annotations (filtered as the layers say), and the
// selected one: its comment (co-written), tags, replies, and what the role may do.

import type * as Y from 'yjs';
import {
  addBody,
  commentText,
  createAnnotation,
  removeBody,
  type Agent,
  type AnnotationView,
} from '../binding/document';
import { bindTextarea, type TextBinding } from '../binding/text';
import { LIMITS } from '../generated/schema';
import { formatTime, language, t, tn } from '../i18n';
import { canEdit, canReply, type Actor } from '../roles/rules';
import { h, replace, uid } from '../ui/dom';
import { tagBody, tagPicker, type TagSource } from './tagpicker';

export interface PanelOptions {
  doc: Y.Doc;
  origin: object;
  all: () => Map<string, AnnotationView>;
  actor: () => Actor;
  creator: () => Agent;
  /** The name to show for a creator (looked up: documents store people by id). */
  nameOf: (agent: Agent | undefined) => string;
  visible: (view: AnnotationView) => boolean;
  colorOf: (view: AnnotationView) => string;
  tagSources: TagSource[];
  onSelect: (id: string | null) => void;
  onDelete: (id: string) => void;
  toast: (message: string, kind?: 'info' | 'error') => void;
  /** The damage entries of reports that link to an annotation (the reports' links). */
  damageOf?: (id: string) => HTMLElement | null;
}

export const commentOf = (view: AnnotationView): string =>
  view.bodies.find((b) => b.text && b.purpose !== 'tagging')?.value ?? '';

export const tagsOf = (view: AnnotationView): string[] =>
  view.bodies.filter((b) => b.purpose === 'tagging' || b.purpose === 'classifying').map((b) => b.value);

// List entries built at once, then per batch (see refresh).
const FIRST_ITEMS = 40;
const BATCH_ITEMS = 120;

const newId = () => crypto.randomUUID().replace(/-/g, '');

export class Panel {
  readonly node: HTMLElement;
  private readonly list: HTMLOListElement;
  private readonly count: HTMLElement;
  private readonly detail: HTMLElement;
  private readonly items = new Map<string, HTMLLIElement>();
  private selected: string | null = null;
  private bindings: TextBinding[] = [];
  private drawnDetail: string | null = null;
  private later: ReturnType<typeof setTimeout> | null = null;

  constructor(private readonly o: PanelOptions) {
    this.count = h('p', { class: 'count', 'aria-live': 'polite' });
    this.list = h('ol', { class: 'annotation-list', 'aria-labelledby': 'annotations-title' });
    this.detail = h('section', { class: 'annotation-detail', 'aria-labelledby': 'detail-title', hidden: true });
    this.node = h(
      'div',
      { class: 'annotations-panel' },
      this.detail,
      h('h2', { id: 'annotations-title' }, t('canvas.annotations')),
      this.count,
      this.list,
    );
  }

  /** Annotations that are threads of their own (not replies), in reading order. */
  private ordered(): AnnotationView[] {
    return [...this.o.all().values()]
      .filter((v) => v.motivation !== 'replying')
      .sort((a, b) => (a.created ?? '').localeCompare(b.created ?? '') || a.id.localeCompare(b.id));
  }

  visibleIds(): string[] {
    return this.ordered()
      .filter((v) => this.o.visible(v))
      .map((v) => v.id);
  }

  private replies(id: string): AnnotationView[] {
    return [...this.o.all().values()]
      .filter((v) => v.replyTo.includes(id))
      .sort((a, b) => (a.created ?? '').localeCompare(b.created ?? ''));
  }

  private item(view: AnnotationView): HTMLLIElement {
    const comment = commentOf(view);
    const replies = this.replies(view.id).length;
    const swatch = h('span', { class: 'swatch', 'aria-hidden': 'true' });
    swatch.style.background = this.o.colorOf(view);
    const li = h(
      'li',
      { class: view.id === this.selected ? 'selected' : '' },
      h(
        'button',
        {
          type: 'button',
          class: 'annotation-item',
          'aria-pressed': view.id === this.selected ? 'true' : 'false',
          onclick: () => this.o.onSelect(view.id),
        },
        swatch,
        h('span', { class: 'item-text' }, comment.trim() ? comment.slice(0, 140) : h('em', null, t('canvas.noComment'))),
        h(
          'span',
          { class: 'item-meta' },
          this.o.nameOf(view.creator),
          replies ? ` · ${tn('canvas.replies', replies)}` : '',
          tagsOf(view).length ? ` · ${tagsOf(view).join(', ')}` : '',
        ),
      ),
    );
    return li;
  }

  /** Redraw the list entries of `ids` (all when omitted) and the open annotation. */
  refresh(ids?: Set<string>): void {
    const all = this.o.all();
    if (!ids || this.later) {
      this.items.clear();
      if (this.later) clearTimeout(this.later);
      this.later = null;
      const visible = this.ordered().filter((v) => this.o.visible(v));
      // The first screenful at once; the rest a batch at a time, so a page with hundreds
      // of annotations can be drawn on before its whole list is built.
      const add = (views: AnnotationView[]) =>
        views.map((v) => {
          const li = this.item(this.o.all().get(v.id) ?? v);
          this.items.set(v.id, li);
          return li;
        });
      replace(this.list, add(visible.slice(0, FIRST_ITEMS)));
      let next = FIRST_ITEMS;
      const more = () => {
        this.list.append(...add(visible.slice(next, next + BATCH_ITEMS).filter((v) => this.o.all().has(v.id))));
        next += BATCH_ITEMS;
        this.later = next < visible.length ? setTimeout(more, 0) : null;
      };
      if (next < visible.length) this.later = setTimeout(more, 0);
    } else {
      const rebuild = [...ids].some((id) => {
        const view = all.get(id);
        return !view || !this.items.has(id) || view.motivation === 'replying';
      });
      if (rebuild) return this.refresh();
      for (const id of ids) {
        const view = all.get(id)!;
        const old = this.items.get(id)!;
        if (!this.o.visible(view)) return this.refresh();
        const li = this.item(view);
        old.replaceWith(li);
        this.items.set(id, li);
      }
    }
    const total = this.ordered().length;
    const shown = this.later ? this.ordered().filter((v) => this.o.visible(v)).length : this.items.size;
    this.count.textContent =
      total === 0 ? t('canvas.noAnnotations') : shown === total ? tn('canvas.count', total) : t('canvas.countFiltered', { shown, total });
    if (this.selected && !all.has(this.selected)) this.select(null);
    else if (this.selected && (!ids || [...ids].some((id) => id === this.selected || this.isReplyOf(id, this.selected!))))
      this.drawDetail(ids !== undefined);
  }

  private isReplyOf(id: string, parent: string): boolean {
    return this.o.all().get(id)?.replyTo.includes(parent) ?? false;
  }

  select(id: string | null): void {
    if (id === this.selected) return;
    const previous = this.selected;
    this.selected = id;
    for (const key of [previous, id]) {
      if (!key) continue;
      const li = this.items.get(key);
      li?.classList.toggle('selected', key === id);
      li?.querySelector('button')?.setAttribute('aria-pressed', key === id ? 'true' : 'false');
    }
    this.drawDetail(false);
    // The open annotation (above the list) is what the person wants to read now.
    if (id) this.detail.scrollIntoView({ block: 'start' });
  }

  focusComment(): void {
    const area = this.detail.querySelector('textarea');
    area?.focus({ preventScroll: true });
    area?.scrollIntoView({ block: 'nearest' });
  }

  private unbind(): void {
    this.bindings.forEach((b) => b.destroy());
    this.bindings = [];
  }

  /** The open annotation. A remote change redraws it, except the comment being typed in,
   * which its text binding keeps current. */
  private drawDetail(update: boolean): void {
    const view = this.selected ? this.o.all().get(this.selected) : undefined;
    if (!view) {
      this.unbind();
      this.detail.hidden = true;
      replace(this.detail);
      this.drawnDetail = null;
      return;
    }
    const active = document.activeElement;
    const typing = update && this.drawnDetail === view.id && active instanceof HTMLTextAreaElement && this.detail.contains(active);
    if (typing) {
      // Keep the textarea (its binding follows the text); refresh the rest around it.
      this.drawTags(view);
      this.drawThread(view);
      return;
    }
    this.unbind();
    this.drawnDetail = view.id;
    this.detail.hidden = false;
    const actor = this.o.actor();
    const editable = canEdit(actor, view);
    const area = h('textarea', {
      id: 'comment-text',
      rows: 4,
      readonly: !editable,
      'aria-describedby': 'comment-hint',
      class: 'comment',
    });
    area.readOnly = !editable;
    const comment = view.bodies.find((b) => b.text && b.purpose !== 'tagging');
    const onTooLong = () => this.o.toast(t('canvas.tooLong', { kb: LIMITS.MAX_BODY_BYTES / 1024 }), 'error');
    if (comment?.text) this.bindings.push(bindTextarea(area, comment.text, this.o.origin, { limit: LIMITS.MAX_BODY_BYTES, onTooLong }));
    else if (editable) {
      // No comment yet (imported, or tags only): the first keystroke makes one.
      area.addEventListener(
        'input',
        () => {
          const value = area.value;
          const text = commentText(this.o.doc, view.id, language(), this.o.origin);
          if (text) {
            text.insert(0, value);
            this.bindings.push(bindTextarea(area, text, this.o.origin, { limit: LIMITS.MAX_BODY_BYTES, onTooLong }));
          }
        },
        { once: true },
      );
    }
    replace(
      this.detail,
      h(
        'div',
        { class: 'detail-head' },
        h('h2', { id: 'detail-title' }, t('canvas.annotationBy', { name: this.o.nameOf(view.creator) })),
        h('button', { type: 'button', class: 'quiet', 'aria-label': t('canvas.closeDetail'), onclick: () => this.o.onSelect(null) }, '×'),
      ),
      view.created ? h('p', { class: 'meta' }, t('canvas.created', { when: formatTime(view.created) })) : null,
      h('label', { for: 'comment-text' }, t('canvas.comment'), comment?.language ? h('span', { class: 'lang', title: t('canvas.language') }, ` (${comment.language})`) : null),
      area,
      h('p', { id: 'comment-hint', class: 'hint' }, editable ? t('canvas.commentHint') : t('canvas.readOnlyHint')),
      h('div', { class: 'tags-area' }),
      this.o.damageOf?.(view.id) ?? null,
      h('div', { class: 'thread-area' }),
      editable
        ? h('p', { class: 'actions' }, h('button', { type: 'button', class: 'danger', onclick: () => this.o.onDelete(view.id) }, t('canvas.delete')))
        : null,
    );
    this.drawTags(view);
    this.drawThread(view);
  }

  private drawTags(view: AnnotationView): void {
    const area = this.detail.querySelector('.tags-area');
    if (!area) return;
    const editable = canEdit(this.o.actor(), view);
    const tags = view.bodies.filter((b) => b.purpose === 'tagging' || b.purpose === 'classifying');
    replace(
      area,
      h('h3', null, t('canvas.tags')),
      tags.length
        ? h(
            'ul',
            { class: 'chips' },
            tags.map((b) =>
              h(
                'li',
                { class: 'chip' },
                b.value,
                editable
                  ? h(
                      'button',
                      {
                        type: 'button',
                        class: 'chip-remove',
                        'aria-label': t('canvas.tags.remove', { tag: b.value }),
                        onclick: () => removeBody(this.o.doc, view.id, b.index, this.o.origin),
                      },
                      '×',
                    )
                  : null,
              ),
            ),
          )
        : h('p', { class: 'hint' }, t('canvas.tags.none')),
      editable
        ? tagPicker(this.o.tagSources, (option) => {
            if (tags.some((b) => b.value.toLowerCase() === option.label.toLowerCase())) return;
            addBody(this.o.doc, view.id, tagBody(option, language()), this.o.origin);
          })
        : null,
    );
  }

  private drawThread(view: AnnotationView): void {
    const area = this.detail.querySelector('.thread-area');
    if (!area) return;
    const actor = this.o.actor();
    const replies = this.replies(view.id);
    const replyId = uid('reply');
    const reply = h('textarea', { id: replyId, rows: 2, maxlength: 20000 });
    const send = () => {
      const value = reply.value.trim();
      if (!value) return;
      createAnnotation(
        this.o.doc,
        {
          id: newId(),
          motivation: 'replying',
          target: view.id,
          creator: this.o.creator(),
          bodies: [{ kind: 'text', value, purpose: 'replying', language: language() }],
        },
        this.o.origin,
      );
      reply.value = '';
    };
    reply.addEventListener('keydown', (e) => {
      if (e.key === 'Enter' && (e.ctrlKey || e.metaKey)) {
        e.preventDefault();
        send();
      }
    });
    replace(
      area,
      h('h3', null, t('canvas.thread')),
      replies.length
        ? h(
            'ol',
            { class: 'thread' },
            replies.map((r) =>
              h(
                'li',
                { class: 'reply' },
                h('p', { class: 'meta' }, this.o.nameOf(r.creator), r.created ? ` · ${formatTime(r.created)}` : '', r.bodies[0]?.language ? ` · ${r.bodies[0].language}` : ''),
                h('p', { class: 'reply-text', ...(r.bodies[0]?.language ? { lang: r.bodies[0].language } : {}) }, commentOf(r)),
                canEdit(actor, r)
                  ? h(
                      'button',
                      { type: 'button', class: 'quiet danger', onclick: () => this.o.onDelete(r.id) },
                      t('canvas.deleteReply'),
                    )
                  : null,
              ),
            ),
          )
        : h('p', { class: 'hint' }, t('canvas.noReplies')),
      canReply(actor)
        ? h(
            'div',
            { class: 'reply-form' },
            h('label', { for: replyId }, t('canvas.reply')),
            reply,
            h('button', { type: 'button', class: 'primary', onclick: send }, t('canvas.send')),
          )
        : null,
    );
  }

  destroy(): void {
    if (this.later) clearTimeout(this.later);
    this.unbind();
  }
}
