// 3D targets in the subject document (annotations/selectors.py, PointSelector3D): a point
// on the model's surface (`x`, `y`, `z`, model coordinates), its unit surface normal and
// the camera view to restore, inside a SpecificResource on the scene. Every field name
// comes from the generated schema, so this is no second copy of it.

import { CAMERA, POINT_3D as P, SOURCE, TARGET } from '../generated/schema';

export type Vec3 = [number, number, number];

export interface CameraView {
  position: Vec3;
  target: Vec3;
  fieldOfView: number;
  up?: Vec3;
}

export interface SurfacePoint {
  point: Vec3;
  normal: Vec3 | null;
  camera: CameraView | null;
}

const finite = (v: unknown): v is number => typeof v === 'number' && Number.isFinite(v);

export const vec3 = (v: unknown): Vec3 | null =>
  Array.isArray(v) && v.length === 3 && v.every(finite) ? [v[0]!, v[1]!, v[2]!] : null;

const cameraOf = (v: unknown): CameraView | null => {
  if (!v || typeof v !== 'object') return null;
  const o = v as Record<string, unknown>;
  const position = vec3(o[CAMERA.POSITION]);
  const target = vec3(o[CAMERA.TARGET]);
  if (!position || !target) return null;
  const fov = o[CAMERA.FIELD_OF_VIEW];
  const up = vec3(o[CAMERA.UP]);
  return { position, target, fieldOfView: finite(fov) && fov > 0 && fov < 180 ? fov : 45, ...(up ? { up } : {}) };
};

const sourceId = (source: unknown): string | null => {
  if (typeof source === 'string') return source;
  if (Array.isArray(source)) return sourceId(source[0]);
  if (source && typeof source === 'object') {
    const id = (source as Record<string, unknown>)[SOURCE.ID];
    return typeof id === 'string' ? id : null;
  }
  return null;
};

/** The surface point an annotation's target names on `scene`, or null (a 2D target, a
 * reply, another scene). */
export const surfacePointOf = (target: unknown, scene: string): SurfacePoint | null => {
  for (const t of Array.isArray(target) ? target : [target]) {
    if (!t || typeof t !== 'object') continue;
    const o = t as Record<string, unknown>;
    if (sourceId(o[TARGET.SOURCE]) !== scene) continue;
    const selectors = o[TARGET.SELECTOR];
    for (const s of Array.isArray(selectors) ? selectors : [selectors]) {
      if (!s || typeof s !== 'object') continue;
      const sel = s as Record<string, unknown>;
      const x = sel[P.X];
      const y = sel[P.Y];
      const z = sel[P.Z];
      if (sel[P.TYPE] !== 'PointSelector' || !finite(x) || !finite(y) || !finite(z)) continue;
      return { point: [x, y, z], normal: vec3(sel[P.SINOPIA_NORMAL]), camera: cameraOf(sel[P.SINOPIA_CAMERA]) };
    }
  }
  return null;
};

const round = (v: number): number => Math.round(v * 1e6) / 1e6;
const rounded = (v: Vec3): Vec3 => [round(v[0]), round(v[1]), round(v[2])];

/** The target of a new point annotation on `scene` (a Scene or model IRI). */
export const surfaceTarget = (scene: string, manifest: string | undefined, p: SurfacePoint, sceneType = 'Scene'): unknown => {
  const selector: Record<string, unknown> = {
    [P.TYPE]: 'PointSelector',
    [P.X]: round(p.point[0]),
    [P.Y]: round(p.point[1]),
    [P.Z]: round(p.point[2]),
  };
  if (p.normal) selector[P.SINOPIA_NORMAL] = rounded(p.normal);
  if (p.camera) {
    const camera: Record<string, unknown> = {
      [CAMERA.POSITION]: rounded(p.camera.position),
      [CAMERA.TARGET]: rounded(p.camera.target),
      [CAMERA.FIELD_OF_VIEW]: round(p.camera.fieldOfView),
    };
    if (p.camera.up) camera[CAMERA.UP] = rounded(p.camera.up);
    selector[P.SINOPIA_CAMERA] = camera;
  }
  const source: Record<string, unknown> = { [SOURCE.ID]: scene, [SOURCE.TYPE]: sceneType };
  if (manifest) source[SOURCE.PART_OF] = [{ id: manifest, type: 'Manifest' }];
  return { [TARGET.TYPE]: 'SpecificResource', [TARGET.SOURCE]: source, [TARGET.SELECTOR]: selector };
};
