import { describe, expect, it } from 'vitest';
import { decodeContentState, encodeContentState, viewStateJson, withContentState } from '../src/embed/contentstate';
import { EMBED_MESSAGES } from '../src/embed/messages';
import { pageAnnotations } from '../src/embed/rest';
import { surfacePointOf } from '../src/binding/points';

// What iiif/content_state.py's ContentState(...).encode() gives for this view.
const FROM_SERVER =
  'JTdCJTIyaWQlMjIlM0ElMjJodHRwcyUzQSUyRiUyRm11c2V1bS5leGFtcGxlJTJGY2FudmFzJTJGMSUyM3h5d2glM0QxMCUyQzIwJTJDMzAlMkM0MCUyMiUyQyUyMnR5cGUlMjIlM0ElMjJDYW52YXMlMjIlMkMlMjJwYXJ0T2YlMjIlM0ElNUIlN0IlMjJpZCUyMiUzQSUyMmh0dHBzJTNBJTJGJTJGbXVzZXVtLmV4YW1wbGUlMkZtYW5pZmVzdC5qc29uJTIyJTJDJTIydHlwZSUyMiUzQSUyMk1hbmlmZXN0JTIyJTdEJTVEJTJDJTIyc2lub3BpYSUzQWFubm90YXRpb24lMjIlM0ElMjJodHRwcyUzQSUyRiUyRnNpbm9waWEuZXhhbXBsZSUyRmFwaSUyRmFubm90YXRpb25zJTJGdyUyRmNhbnZhcyUyRmMlMkZhMSUyMiU3RA';
const VIEW = {
  canvas: 'https://museum.example/canvas/1',
  manifest: 'https://museum.example/manifest.json',
  region: [10, 20, 30, 40] as [number, number, number, number],
  annotation: 'https://sinopia.example/api/annotations/w/canvas/c/a1',
};

describe('IIIF Content State in the embed', () => {
  it('reads what the server writes, and writes it the same way', () => {
    expect(decodeContentState(FROM_SERVER)).toEqual(VIEW);
    expect(encodeContentState(viewStateJson(VIEW))).toBe(FROM_SERVER);
  });

  it('reads the full annotation form, a SpecificResource, plain JSON and a bare URI', () => {
    const full = {
      type: 'Annotation',
      motivation: ['contentState'],
      target: {
        type: 'SpecificResource',
        source: { id: VIEW.canvas, type: 'Canvas' },
        selector: { type: 'FragmentSelector', value: 'xywh=1,2,3,4' },
      },
    };
    expect(decodeContentState(encodeContentState(full))).toEqual({ canvas: VIEW.canvas, region: [1, 2, 3, 4] });
    expect(decodeContentState(JSON.stringify({ id: `${VIEW.canvas}#xywh=5,6,7,8`, type: 'Canvas' }))?.region).toEqual([5, 6, 7, 8]);
    expect(decodeContentState(VIEW.canvas)).toEqual({ canvas: VIEW.canvas });
  });

  it('gives nothing for what is not a content state', () => {
    for (const bad of ['', '!!!', '{"id": 3}', 'e30', 'not json at all']) expect(decodeContentState(bad)).toBeNull();
    // A region of no width is no region: the whole canvas opens.
    expect(decodeContentState(`${VIEW.canvas}#xywh=1,2,0,4`)).toEqual({ canvas: VIEW.canvas });
  });

  it('puts the state in the page link, replacing an older one', () => {
    const link = withContentState('https://museum.example/altarpiece?iiif-content=old&x=1', VIEW);
    const url = new URL(link);
    expect(url.searchParams.get('x')).toBe('1');
    expect(url.searchParams.getAll('iiif-content')).toEqual([FROM_SERVER]);
  });
});

describe('the polled AnnotationPage', () => {
  it('reads texts, terms (the Presentation 3 tagging shape) and ids as the document keys', () => {
    const page = {
      type: 'AnnotationPage',
      items: [
        {
          id: 'https://sinopia.example/api/annotations/w/canvas/c/a%201',
          type: 'Annotation',
          motivation: 'commenting',
          created: '2026-01-01T00:00:00Z',
          body: [
            { type: 'TextualBody', value: 'Flaking along the hem' },
            { type: 'SpecificResource', source: 'http://vocab.getty.edu/aat/300218594', purpose: 'classifying' },
            { type: 'TextualBody', value: 'flaking', purpose: 'classifying' },
          ],
          target: 'https://museum.example/canvas/1#xywh=1,2,3,4',
        },
        { type: 'Annotation' },
      ],
    };
    const read = pageAnnotations(page);
    expect([...read.keys()]).toEqual(['a 1']);
    const view = read.get('a 1')!;
    expect(view.bodies.map((b) => [b.value, Boolean(b.source)])).toEqual([
      ['Flaking along the hem', false],
      ['flaking', true],
    ]);
    expect(view.created).toBe('2026-01-01T00:00:00Z');
  });
});

describe('a 3D subject in the embed', () => {
  const scene = 'https://museum.example/manifest/scene/bronze';

  it('shares a view of a Scene: the annotation chosen, its saved camera the view', () => {
    const annotation = 'https://sinopia.example/api/annotations/w/model/m/a1';
    const json = viewStateJson({ canvas: scene, type: 'Scene', annotation });
    expect(json).toEqual({ id: scene, type: 'Scene', 'sinopia:annotation': annotation });
    expect(decodeContentState(encodeContentState(json))).toEqual({ canvas: scene, annotation });
  });

  it('reads the points of a polled draft AnnotationPage (websockets blocked)', () => {
    // The shape iiif/scenes.py scene_annotation_page gives.
    const page = {
      type: 'AnnotationPage',
      items: [
        {
          id: 'https://sinopia.example/api/annotations/w/model/m/a1',
          type: 'Annotation',
          motivation: ['commenting'],
          body: { type: 'TextualBody', value: 'Casting flaw' },
          target: {
            type: 'SpecificResource',
            source: [{ id: scene, type: 'Scene' }],
            selector: [
              {
                type: 'PointSelector',
                x: 0.2,
                y: 0.6,
                z: 0.1,
                'sinopia:normal': [0, 1, 0],
                'sinopia:camera': { position: [1, 2, 3], target: [0.2, 0.6, 0.1], fieldOfView: 40 },
              },
            ],
            scope: { type: 'Annotation', motivation: ['contentState'] },
          },
        },
      ],
    };
    const view = pageAnnotations(page).get('a1')!;
    expect(surfacePointOf(view.target, scene)).toEqual({
      point: [0.2, 0.6, 0.1],
      normal: [0, 1, 0],
      camera: { position: [1, 2, 3], target: [0.2, 0.6, 0.1], fieldOfView: 40 },
    });
    expect(surfacePointOf(view.target, 'https://museum.example/other')).toBeNull();
  });
});

describe('the embed messages', () => {
  it('have the same keys and placeholders in every language', () => {
    const keys = Object.keys(EMBED_MESSAGES.en).sort();
    for (const [lang, messages] of Object.entries(EMBED_MESSAGES)) {
      expect(Object.keys(messages).sort(), lang).toEqual(keys);
      for (const key of keys) {
        const holes = (text: string) => (text.match(/\{\w+\}/g) ?? []).sort();
        expect(holes(messages[key as keyof typeof messages]), `${lang} ${key}`).toEqual(holes(EMBED_MESSAGES.en[key as keyof typeof EMBED_MESSAGES.en]));
      }
    }
  });
});
