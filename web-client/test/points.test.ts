import { describe, expect, it } from 'vitest';
import { surfacePointOf, surfaceTarget } from '../src/binding/points';
import { cameraMoved, peersOf } from '../src/presence/model';

const scene = 'https://museum.example/iiif/scene/ewer';

describe('3D points', () => {
  it('writes a surface point with its normal and camera, and reads it back', () => {
    const point = {
      point: [0.1234567, 0.2, -0.3] as [number, number, number],
      normal: [0, 1, 0] as [number, number, number],
      camera: { position: [1, 2, 3] as [number, number, number], target: [0, 0, 0] as [number, number, number], fieldOfView: 45 },
    };
    const target = surfaceTarget(scene, 'https://museum.example/manifest', point) as Record<string, any>;
    expect(target.type).toBe('SpecificResource');
    expect(target.source).toEqual({ id: scene, type: 'Scene', partOf: [{ id: 'https://museum.example/manifest', type: 'Manifest' }] });
    expect(target.selector).toMatchObject({ type: 'PointSelector', x: 0.123457, y: 0.2, z: -0.3, 'sinopia:normal': [0, 1, 0] });
    expect(target.selector['sinopia:camera']).toEqual({ position: [1, 2, 3], target: [0, 0, 0], fieldOfView: 45 });
    expect(surfacePointOf(target, scene)).toEqual({ ...point, point: [0.123457, 0.2, -0.3] });
  });

  it('reads the 3D draft shape (source and selector as lists) and ignores what is no 3D point', () => {
    const draft = { type: 'SpecificResource', source: [{ id: scene, type: 'Scene' }], selector: [{ type: 'PointSelector', x: 1, y: 2, z: 3 }] };
    expect(surfacePointOf(draft, scene)).toEqual({ point: [1, 2, 3], normal: null, camera: null });
    expect(surfacePointOf({ ...draft, selector: [{ type: 'PointSelector', x: 1, y: 2 }] }, scene)).toBeNull();
    expect(surfacePointOf(draft, 'https://elsewhere.example/scene')).toBeNull();
    expect(surfacePointOf(`${scene}#xywh=1,2,3,4`, scene)).toBeNull();
    expect(surfacePointOf({ ...draft, selector: [{ type: 'PointSelector', x: 'a', y: 2, z: 3 }] }, scene)).toBeNull();
  });

  it('reads colleagues 3D pointers and cameras defensively', () => {
    const states = new Map<number, unknown>([
      [2, { user: { name: 'Bob', id: 'b' }, pointer3d: [1, 2, 3], camera: { position: [0, 0, 5], target: [0, 0, 0], fieldOfView: 40 } }],
      [3, { user: { name: 'Eve', id: 'e' }, pointer3d: [1, 'x', 3], camera: { position: [0, 0, 0], target: [0, 0, 0] } }],
    ]);
    const [bob, eve] = peersOf(states, 1);
    expect(bob!.pointer3d).toEqual([1, 2, 3]);
    expect(bob!.camera).toEqual({ position: [0, 0, 5], target: [0, 0, 0], fieldOfView: 40 });
    expect(eve!.pointer3d).toBeNull();
    expect(eve!.camera).toBeNull();
    const a = bob!.camera!;
    expect(cameraMoved(a, { ...a, position: [0, 0, 5.000001] })).toBe(false);
    expect(cameraMoved(a, { ...a, position: [0, 1, 5] })).toBe(true);
  });
});
