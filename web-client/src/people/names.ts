// The names of the people that annotations name by pseudonymous id.
//
// Documents store a Sinopia user as creator by id alone (`urn:sinopia:user:<id>`), so
// that erasing the person leaves no name in them or their history; the name to show is
// asked of the server (GET /api/workspaces/{ws}/people) when an annotation is shown, so
// a renamed person shows the new name and an erased one "erased user N". Annotations
// from before kept a name beside the id: it is shown until the lookup answers, and
// creators that are no Sinopia user (imported ones) keep the name they came with.

import { ApiError, enc, get } from '../api/http';
import { isUserAgent, type Agent } from '../binding/document';
import { t } from '../i18n';

// Ids per request: the server's limit (server/api/people.py MAX_IDS).
const MAX_IDS = 100;
// Ids seen within this many ms go in one request (a canvas opening shows dozens at once).
const BATCH_MS = 30;
// What the server says for an erased person (server/commands/person.py ERASED), shown in
// the reader's language.
const ERASED = /^erased user (\d+)$/;

const shown = (name: string): string => {
  const erased = ERASED.exec(name);
  return erased ? t('people.erased', { n: erased[1]! }) : name;
};

interface PeopleAnswer {
  people: { id: string; name: string }[];
}

export class PeopleNames {
  private readonly known = new Map<string, string>();
  private readonly asked = new Set<string>();
  private readonly pending = new Set<string>();
  private timer: ReturnType<typeof setTimeout> | null = null;
  private readonly listeners = new Set<() => void>();

  constructor(
    private readonly ws: string,
    me?: { id: string; name: string },
  ) {
    // Their own name the app knows already: no lookup for one's own annotations.
    if (me && isUserAgent(me.id)) {
      this.known.set(me.id, me.name);
      this.asked.add(me.id);
    }
  }

  /** The name to show for `agent` now (a lookup is started for an id not known yet). */
  nameOf(agent: Agent | undefined): string {
    const id = agent?.id;
    if (isUserAgent(id)) {
      const known = this.known.get(id);
      if (known !== undefined) return shown(known);
      this.want(id);
    }
    return agent?.name || t('canvas.someone');
  }

  /** Called when names arrive (to redraw what shows them); returns the unsubscription. */
  onChange(fn: () => void): () => void {
    this.listeners.add(fn);
    return () => this.listeners.delete(fn);
  }

  private want(id: string): void {
    if (this.asked.has(id)) return;
    this.asked.add(id);
    this.pending.add(id);
    this.timer ??= setTimeout(() => void this.ask(), BATCH_MS);
  }

  private async ask(): Promise<void> {
    this.timer = null;
    const ids = [...this.pending];
    this.pending.clear();
    let changed = false;
    for (let i = 0; i < ids.length; i += MAX_IDS) {
      const batch = ids.slice(i, i + MAX_IDS);
      try {
        const answer = await get<PeopleAnswer>(`/api/workspaces/${enc(this.ws)}/people?id=${enc(batch.join(' '))}`);
        for (const p of answer.people) {
          if (this.known.get(p.id) !== p.name) changed = true;
          this.known.set(p.id, p.name);
        }
      } catch (error) {
        // The stored name (or "someone") stays. Offline: asked again when next shown;
        // refused (a share link may not look people up): not asked again.
        if (!(error instanceof ApiError && error.status < 500)) for (const id of batch) this.asked.delete(id);
        console.warn('names not looked up', error);
      }
    }
    if (changed) for (const fn of this.listeners) fn();
  }
}
