// The review discussion of a report: leads reviewing it and its authors talk it over,
// apart from the workflow's steps and their notes. Each comment is sent to
// POST /api/reports/{ws}/{id}/comments; the server writes it, attributed and dated, into
// the live document, so everyone here sees it arrive. A locked report takes no more.

import type * as Y from 'yjs';
import { ApiError, enc, post } from '../api/http';
import { readComments, type CommentView } from '../binding/report';
import { REPORT_LIMITS } from '../generated/schema';
import { formatTime, t, tn, type Key } from '../i18n';
import { h, replace, uid } from '../ui/dom';
import { shownName, type PersonOptions } from './people';

export interface DiscussionOptions {
  ws: string;
  id: string;
  doc: Y.Doc;
  /** Whether this person may comment now (a role that comments, a report not locked). */
  canComment: () => boolean;
  /** Why not, when they may not (shown instead of the form). */
  whyNot: () => string | null;
  people: PersonOptions;
  toast: (message: string, kind?: 'info' | 'error') => void;
}

export class Discussion {
  readonly node: HTMLElement;
  private readonly listEl = h('ol', { class: 'comments' });
  private readonly formEl = h('div', { class: 'comment-form' });
  private readonly textId = uid('comment');
  private readonly text = h('textarea', { id: this.textId, rows: 3, maxlength: REPORT_LIMITS.NOTE });
  private readonly replyEl = h('p', { class: 'replying', hidden: true });
  private readonly message = h('div', { class: 'comment-message', role: 'alert' });
  private readonly send = h('button', { type: 'button', class: 'primary' }, t('report.discuss.post'));
  private replyTo: CommentView | null = null;
  private drawn = '';
  private busy = false;

  constructor(private readonly o: DiscussionOptions) {
    this.send.addEventListener('click', () => void this.post());
    this.text.addEventListener('keydown', (e: KeyboardEvent) => {
      // Ctrl+Enter (Cmd+Enter) posts, as in the canvas's comments.
      if (e.key === 'Enter' && (e.ctrlKey || e.metaKey)) {
        e.preventDefault();
        void this.post();
      }
    });
    this.node = h(
      'section',
      { class: 'report-discussion', 'aria-labelledby': 'discussion-title', id: 'report-discussion' },
      h('h2', { id: 'discussion-title' }, t('report.discuss.title')),
      h('p', { class: 'hint' }, t('report.discuss.hint')),
      this.listEl,
      this.formEl,
    );
  }

  show(): void {
    const comments = readComments(this.o.doc);
    const can = this.o.canComment();
    const key = JSON.stringify([comments, can, this.o.whyNot(), this.o.people.members().length]);
    if (key === this.drawn) return;
    this.drawn = key;
    const byId = new Map(comments.map((c) => [c.id, c]));
    replace(
      this.listEl,
      comments.length
        ? comments.map((c) => {
            const answered = c.reply_to ? byId.get(c.reply_to) : undefined;
            return h(
              'li',
              { class: `comment${c.role === 'lead' ? ' by-lead' : ''}`, 'data-comment': c.id },
              h(
                'p',
                { class: 'comment-head' },
                h('strong', null, shownName(this.o.people, c.author) || t('presence.anonymous')),
                c.role ? h('span', { class: 'comment-role' }, ` (${t(`role.${c.role}` as Key)})`) : null,
                ' · ',
                h('time', { datetime: c.at }, c.at ? formatTime(c.at) : ''),
              ),
              answered ? h('p', { class: 'comment-answers' }, t('report.discuss.answers', { name: shownName(this.o.people, answered.author) || '?', text: answered.text.slice(0, 60) })) : null,
              h('p', { class: 'comment-text' }, c.text),
              can ? h('button', { type: 'button', class: 'quiet comment-reply', 'aria-label': t('report.discuss.replyTo', { name: shownName(this.o.people, c.author) || '?' }), onclick: () => this.reply(c) }, t('report.discuss.reply')) : null,
            );
          })
        : h('li', { class: 'hint empty' }, t('report.discuss.none')),
    );
    if (comments.length) this.listEl.append(h('li', { class: 'visually-hidden' }, tn('report.discuss.count', comments.length)));
    const why = this.o.whyNot();
    // The form stays as it is (a comment being written is kept) while it may be used.
    if (can && !this.formEl.contains(this.text)) {
      replace(
        this.formEl,
        h('label', { for: this.textId }, t('report.discuss.yours')),
        this.replyEl,
        this.text,
        h('p', { class: 'actions' }, this.send),
        this.message,
      );
    } else if (!can) replace(this.formEl, why ? h('p', { class: 'hint' }, why) : null);
  }

  /** Answer comment `c` (null: a comment of its own again). */
  private reply(c: CommentView | null): void {
    this.replyTo = c;
    this.replyEl.hidden = !c;
    if (!c) {
      replace(this.replyEl);
      return;
    }
    replace(
      this.replyEl,
      t('report.discuss.replying', { name: shownName(this.o.people, c.author) || '?' }),
      ' ',
      h('button', { type: 'button', class: 'quiet', onclick: () => this.reply(null) }, t('report.discuss.cancelReply')),
    );
    this.text.focus();
  }

  private async post(): Promise<void> {
    const text = this.text.value.trim();
    replace(this.message);
    if (!text) {
      replace(this.message, h('p', { class: 'field-error' }, t('report.discuss.empty')));
      this.text.focus();
      return;
    }
    if (this.busy) return;
    this.busy = true;
    this.send.disabled = true;
    try {
      await post(`/api/reports/${enc(this.o.ws)}/${enc(this.o.id)}/comments`, this.replyTo ? { text, reply_to: this.replyTo.id } : { text });
      this.text.value = '';
      this.reply(null);
    } catch (error) {
      const e = error instanceof ApiError ? error : new ApiError(0, '');
      replace(this.message, h('p', { class: 'notice notice-error' }, e.status === 0 ? t('error.network.title') : t('report.refused', { detail: e.detail || String(e.status) })));
    } finally {
      this.busy = false;
      this.send.disabled = false;
    }
  }
}
