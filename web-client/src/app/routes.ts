// The app's pages by location.pathname (DESIGN.md's browser app routes).

import { KINDS, type Kind } from '../generated/schema';

export type Route =
  | { name: 'home' }
  | { name: 'workspace'; ws: string }
  | { name: 'subject'; ws: string; kind: Kind; id: string }
  | { name: 'unknown' };

// Workspace and document ids: a path segment that can never be `.` or `..` (as the server).
const SEGMENT = /^[A-Za-z0-9][A-Za-z0-9._-]{0,127}$/;

export const parseRoute = (pathname: string): Route => {
  const parts = pathname.split('/').filter(Boolean).map(decodeURIComponent);
  if (parts.length === 0) return { name: 'home' };
  if (parts[0] !== 'w' || !parts[1] || !SEGMENT.test(parts[1])) return { name: 'unknown' };
  const ws = parts[1];
  if (parts.length === 2) return { name: 'workspace', ws };
  const [, , kind, id] = parts;
  if (parts.length === 4 && (KINDS as readonly string[]).includes(kind!) && SEGMENT.test(id!))
    return { name: 'subject', ws, kind: kind as Kind, id: id! };
  return { name: 'unknown' };
};

export const workspacePath = (ws: string) => `/w/${encodeURIComponent(ws)}`;
export const subjectPath = (ws: string, kind: string, id: string) =>
  `/w/${encodeURIComponent(ws)}/${encodeURIComponent(kind)}/${encodeURIComponent(id)}`;
