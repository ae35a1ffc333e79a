// The subject's picture, asked for as soon as the document says where it is (before the
// viewer's code has even loaded), and what went wrong when it cannot be had: the image
// server does not let other sites read it (no CORS headers), this Sinopia's security
// policy does not name it yet, or it does not answer.

import type { SubjectMeta } from '../binding/document';
import { blockedByPolicy, originOf } from '../app/policy';

export type Picture =
  | { kind: 'service'; info: Record<string, unknown> } // a IIIF Image API info.json
  | { kind: 'image'; url: string } // one picture, no service
  | { kind: 'refused'; origin: string; why: Refusal };

/** cors: its server does not let this site read it; policy: this page's security policy
 * does not name its server; unreachable: no answer; bad: the answer is not an info.json. */
export type Refusal = 'cors' | 'policy' | 'unreachable' | 'bad';

export const infoUrl = (service: { id: string }): string => `${service.id.replace(/\/$/, '')}/info.json`;

// How long the browser may take to report a policy violation after refusing a request
// (it is queued as a task of its own, after the failed fetch settles).
const VIOLATION_REPORTED_MS = 100;

const why = async (url: string): Promise<Refusal> => {
  const origin = originOf(url);
  await new Promise((resolve) => setTimeout(resolve, VIOLATION_REPORTED_MS));
  if (blockedByPolicy(origin)) return 'policy';
  try {
    // An opaque answer still says the server is there: it just does not allow us to read it.
    await fetch(url, { mode: 'no-cors', credentials: 'omit', cache: 'no-store' });
    return blockedByPolicy(origin) ? 'policy' : 'cors';
  } catch {
    return blockedByPolicy(origin) ? 'policy' : 'unreachable';
  }
};

export const loadPicture = async (meta: SubjectMeta): Promise<Picture> => {
  if (!meta.imageService) return meta.image ? { kind: 'image', url: meta.image.id } : { kind: 'refused', origin: '', why: 'bad' };
  const url = infoUrl(meta.imageService);
  let answer: Response;
  try {
    answer = await fetch(url, { credentials: 'omit' });
  } catch {
    return { kind: 'refused', origin: originOf(url), why: await why(url) };
  }
  try {
    if (!answer.ok) throw new Error(String(answer.status));
    const info = (await answer.json()) as Record<string, unknown>;
    if (!info || typeof info !== 'object' || !(info.id || info['@id'])) throw new Error('not an info.json');
    return { kind: 'service', info };
  } catch {
    return { kind: 'refused', origin: originOf(url), why: 'bad' };
  }
};
