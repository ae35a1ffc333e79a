// IIIF Content State 1.0 in the embed: what `iiif-content` opens (a region of the canvas,
// or one annotation) and the link "share this view" gives. The same compact form as
// iiif/content_state.py publishes: the canvas (`#xywh=` for a region) `partOf` its
// manifest, plus `sinopia:annotation` (the annotation's IRI) to select one. Decoding takes
// the encoded form, plain JSON, the full annotation form and a bare URI.

export const ANNOTATION_PROPERTY = 'sinopia:annotation';

export interface ViewState {
  canvas: string;
  type?: 'Canvas' | 'Scene' | undefined; // what `canvas` is (a 3D subject's is a Scene)
  manifest?: string | undefined;
  region?: [number, number, number, number] | undefined;
  annotation?: string | undefined;
}

const XYWH = /^(?:pixel:)?(\d+),(\d+),(\d+),(\d+)$/;

const toBase64Url = (text: string): string => {
  const bytes = new TextEncoder().encode(text);
  let binary = '';
  for (const b of bytes) binary += String.fromCharCode(b);
  return btoa(binary).replace(/\+/g, '-').replace(/\//g, '_').replace(/=+$/, '');
};

const fromBase64Url = (text: string): string => {
  const padded = text.replace(/-/g, '+').replace(/_/g, '/') + '='.repeat((4 - (text.length % 4)) % 4);
  const binary = atob(padded);
  return new TextDecoder().decode(Uint8Array.from(binary, (c) => c.charCodeAt(0)));
};

/** Content-state-encode a JSON value (spec §6: encodeURIComponent, then base64url). */
export const encodeContentState = (value: unknown): string => toBase64Url(encodeURIComponent(JSON.stringify(value)));

const decodeJson = (text: string): unknown => {
  const trimmed = text.trim();
  if (!trimmed) throw new Error('empty content state');
  if (trimmed.startsWith('{') || trimmed.startsWith('[')) return JSON.parse(trimmed);
  if (/^[a-z][a-z0-9+.-]*:\/\//i.test(trimmed)) return trimmed;
  if (!/^[A-Za-z0-9_-]+=*$/.test(trimmed)) throw new Error('not base64url');
  return JSON.parse(decodeURIComponent(fromBase64Url(trimmed.replace(/=+$/, ''))));
};

const record = (v: unknown): Record<string, unknown> | null => (v && typeof v === 'object' && !Array.isArray(v) ? (v as Record<string, unknown>) : null);

/** What a content state opens, or null when it cannot be read. */
export const decodeContentState = (text: string): ViewState | null => {
  let value: unknown;
  try {
    value = decodeJson(text);
  } catch {
    return null;
  }
  return fromJson(value);
};

const fromJson = (value: unknown): ViewState | null => {
  if (typeof value === 'string') return splitCanvas(value, {});
  const o = record(value);
  if (!o) return null;
  if (o.type === 'Annotation') {
    const target = Array.isArray(o.target) ? o.target[0] : o.target;
    return fromJson(target);
  }
  if (o.type === 'SpecificResource') {
    const source = o.source;
    const selectors = Array.isArray(o.selector) ? o.selector : [o.selector];
    let region: string | undefined;
    for (const s of selectors) {
      const sel = record(s);
      if (sel?.type === 'FragmentSelector' && typeof sel.value === 'string') region = sel.value.replace(/^xywh=/, '');
    }
    const inner = record(source) ?? { id: source };
    const state = fromJson({ ...inner, ...(o[ANNOTATION_PROPERTY] ? { [ANNOTATION_PROPERTY]: o[ANNOTATION_PROPERTY] } : {}) });
    if (state && region) {
      const parsed = parseRegion(region);
      if (parsed) state.region = parsed;
    }
    return state;
  }
  if (typeof o.id !== 'string') return null;
  return splitCanvas(o.id, o);
};

const parseRegion = (text: string): [number, number, number, number] | undefined => {
  const m = XYWH.exec(text);
  if (!m) return undefined;
  const r = [m[1], m[2], m[3], m[4]].map(Number) as [number, number, number, number];
  return r[2] > 0 && r[3] > 0 ? r : undefined;
};

const splitCanvas = (id: string, o: Record<string, unknown>): ViewState => {
  const [canvas, fragment] = id.split('#', 2) as [string, string | undefined];
  const state: ViewState = { canvas };
  if (fragment?.startsWith('xywh=')) state.region = parseRegion(fragment.slice(5));
  const partOf = Array.isArray(o.partOf) ? o.partOf[0] : o.partOf;
  const manifest = typeof partOf === 'string' ? partOf : record(partOf)?.id;
  if (typeof manifest === 'string') state.manifest = manifest;
  if (typeof o[ANNOTATION_PROPERTY] === 'string') state.annotation = o[ANNOTATION_PROPERTY] as string;
  return state;
};

/** The compact (target) form of a view, as iiif/content_state.py writes it. */
export const viewStateJson = (state: ViewState): Record<string, unknown> => {
  const region = state.region?.map((v) => Math.max(0, Math.round(v))).join(',');
  return {
    id: region ? `${state.canvas}#xywh=${region}` : state.canvas,
    type: state.type ?? 'Canvas',
    ...(state.manifest ? { partOf: [{ id: state.manifest, type: 'Manifest' }] } : {}),
    ...(state.annotation ? { [ANNOTATION_PROPERTY]: state.annotation } : {}),
  };
};

/** `url` with `iiif-content` set to `state` (the parameter IIIF viewers read). */
export const withContentState = (url: string, state: ViewState): string => {
  const u = new URL(url);
  u.searchParams.set('iiif-content', encodeContentState(viewStateJson(state)));
  return u.toString();
};
