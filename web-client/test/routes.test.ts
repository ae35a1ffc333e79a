import { describe, expect, it } from 'vitest';
import { parseRoute, subjectPath } from '../src/app/routes';

describe('routes', () => {
  it('routes the three pages of the app', () => {
    expect(parseRoute('/')).toEqual({ name: 'home' });
    expect(parseRoute('/w/museum')).toEqual({ name: 'workspace', ws: 'museum' });
    expect(parseRoute('/w/museum/canvas/folio-12r')).toEqual({ name: 'subject', ws: 'museum', kind: 'canvas', id: 'folio-12r' });
    expect(parseRoute(subjectPath('m', 'canvas', 'a.b_c-1'))).toMatchObject({ id: 'a.b_c-1' });
  });

  it('refuses names the server would refuse, and unknown kinds', () => {
    for (const path of ['/w/..', '/w/museum/canvas/..', '/w/museum/picture/x', '/w/museum/canvas', '/x', '/w/museum/canvas/a/b', '/w/-bad'])
      expect(parseRoute(path), path).toEqual({ name: 'unknown' });
  });
});
