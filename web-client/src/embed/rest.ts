// The embed over plain HTTP: the subject (its image, at once, while the live document
// connects) and, when websockets are blocked (some museum networks), its Presentation 3
// AnnotationPage, polled with If-None-Match so an unchanged page costs a 304.

import type { AnnotationView, BodyView, SubjectMeta } from '../binding/document';

export type Refusal = 'unavailable' | 'refused';

export class Refused extends Error {
  constructor(readonly kind: Refusal) {
    super(kind);
  }
}

const withToken = (url: string, token: string): string => {
  const u = new URL(url);
  u.searchParams.set('token', token);
  return u.toString();
};

const refusal = async (response: Response): Promise<Refused> => {
  let detail = '';
  try {
    detail = String(((await response.json()) as { detail?: unknown }).detail ?? '');
  } catch {
    // not a problem document: the status says enough
  }
  return new Refused(response.status === 403 && /embedded on/.test(detail) ? 'refused' : 'unavailable');
};

// Answers that end the view for good: the link is withdrawn, does not cover this, or the
// subject is gone. Anything else (5xx, a network error) is tried again.
const FINAL = new Set([401, 403, 404, 410]);

export interface EmbedSubject {
  meta: SubjectMeta;
  kind: string;
  annotations: string;
  model?: string; // a 3D subject's model file
}

export const fetchSubject = async (server: string, document: string, token: string): Promise<EmbedSubject> => {
  const response = await fetch(withToken(`${server}/api/embed/${document}`, token), { credentials: 'omit' });
  if (FINAL.has(response.status)) throw await refusal(response);
  if (!response.ok) throw new Error(`subject: ${response.status}`);
  const s = (await response.json()) as {
    kind: string;
    label: string;
    canvas: string;
    manifest?: string;
    width?: number;
    height?: number;
    image_service?: { id: string; version: number };
    image?: { id: string; format?: string };
    annotations: string;
    model?: string;
  };
  const meta: SubjectMeta = { iiifId: s.canvas, label: s.label };
  if (s.manifest) meta.manifest = s.manifest;
  if (s.width) meta.width = s.width;
  if (s.height) meta.height = s.height;
  if (s.image_service) meta.imageService = { id: s.image_service.id, version: s.image_service.version };
  if (s.image) meta.image = { id: s.image.id, ...(s.image.format ? { format: s.image.format } : {}) };
  return { meta, kind: s.kind, annotations: s.annotations, ...(s.model ? { model: s.model } : {}) };
};

const text = (v: unknown): string => {
  if (typeof v === 'string') return v;
  if (v && typeof v === 'object') {
    // A IIIF language map: its first value.
    const first = Object.values(v as Record<string, unknown>)[0];
    return Array.isArray(first) ? String(first[0] ?? '') : typeof first === 'string' ? first : '';
  }
  return '';
};

// Purposes whose textual body is a term's label (Presentation 3 writes linked terms as a
// SpecificResource naming the term beside a TextualBody with its label).
const TERM_PURPOSES = new Set(['tagging', 'classifying', 'identifying']);

const bodiesOf = (raw: unknown): BodyView[] => {
  const list = Array.isArray(raw) ? raw : raw ? [raw] : [];
  const out: BodyView[] = [];
  list.forEach((b, index) => {
    if (!b || typeof b !== 'object') return;
    const o = b as Record<string, unknown>;
    const type = typeof o.type === 'string' ? o.type : '';
    const purpose = typeof o.purpose === 'string' ? o.purpose : undefined;
    if (type === 'SpecificResource' && typeof o.source === 'string') return; // its label follows
    const source = o.source && typeof o.source === 'object' ? (o.source as Record<string, unknown>) : null;
    const value = typeof o.value === 'string' ? o.value : text(source?.label ?? o.label) || String(source?.id ?? o.id ?? '');
    const view: BodyView = { index, type, value, text: null };
    if (purpose) view.purpose = purpose;
    if (source && typeof source.id === 'string') view.source = { id: source.id, label: text(source.label) || source.id };
    else if (type === 'TextualBody' && purpose && TERM_PURPOSES.has(purpose)) view.source = { id: '', label: value };
    out.push(view);
  });
  return out;
};

const lastSegment = (iri: string): string => decodeURIComponent(iri.replace(/\/$/, '').split('/').pop() ?? iri);

/** An AnnotationPage's annotations as the viewer reads them (ids: the document's keys). */
export const pageAnnotations = (page: unknown): Map<string, AnnotationView> => {
  const out = new Map<string, AnnotationView>();
  const items = (page as { items?: unknown })?.items;
  for (const item of Array.isArray(items) ? items : []) {
    if (!item || typeof item !== 'object') continue;
    const a = item as Record<string, unknown>;
    if (typeof a.id !== 'string') continue;
    const id = lastSegment(a.id);
    const view: AnnotationView = {
      id,
      motivation: typeof a.motivation === 'string' ? a.motivation : 'commenting',
      target: a.target,
      bodies: bodiesOf(a.body),
      replyTo: [],
    };
    if (typeof a.created === 'string') view.created = a.created;
    out.set(id, view);
  }
  return out;
};

/** Polls an AnnotationPage until stopped; `onPage` gets each changed page. */
export class Poller {
  private etag: string | null = null;
  private timer: ReturnType<typeof setTimeout> | null = null;
  private stopped = false;

  constructor(
    private readonly url: string,
    private readonly token: string,
    private readonly every: number,
    private readonly onPage: (annotations: Map<string, AnnotationView>) => void,
    private readonly onRefused: (kind: Refusal) => void,
  ) {
    void this.poll();
  }

  private async poll(): Promise<void> {
    if (this.stopped) return;
    try {
      const response = await fetch(withToken(this.url, this.token), {
        credentials: 'omit',
        cache: 'no-store',
        headers: this.etag ? { 'If-None-Match': this.etag } : {},
      });
      if (this.stopped) return;
      if (FINAL.has(response.status)) {
        this.onRefused((await refusal(response)).kind);
        return;
      }
      if (response.ok) {
        this.etag = response.headers.get('ETag');
        this.onPage(pageAnnotations(await response.json()));
      }
    } catch {
      // The network is down: try again at the next tick.
    }
    if (!this.stopped) this.timer = setTimeout(() => void this.poll(), this.every);
  }

  stop(): void {
    this.stopped = true;
    if (this.timer) clearTimeout(this.timer);
  }
}
