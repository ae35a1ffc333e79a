// The embed's 3D view: its own chunk (three.js), which viewer.ts loads only for model
// subjects. The scene itself is the app's (src/model/scene.ts: the model as its glTF places
// it, the orbiting camera, pins along surface normals, picking, rendering on demand); this
// adds only what a read-only visitor does with it: choose a pin, fly to its saved view.

import type { SurfacePoint } from '../binding/points';
import { ModelScene } from '../model/scene';

export interface ModelPin {
  id: string;
  point: SurfacePoint;
  chosen: boolean;
  label: string;
}

export interface ModelSurface {
  readonly node: HTMLElement;
  /** Load the model file, with the share link's token as a bearer header (as for tiles)
   * when there is one: null for a file elsewhere than Sinopia, never given our token. */
  load(url: string, token: string | null, progress: (share: number | null) => void): Promise<void>;
  setPins(pins: ModelPin[]): void;
  /** Show the point as it was seen when it was annotated (its saved camera), if saved. */
  fly(point: SurfacePoint, immediately: boolean): void;
  home(): void;
  zoom(factor: number): void;
  afterFrame(callback: () => void): void;
  destroy(): void;
}

// The embed's annotation colour (its badges and outlines are this amber too).
const PIN_COLOR = '#ffb547';
// Pins half again as large as the app's: visitors look for them on the model.
const PIN_SCALE = 1.5;

// Whether the browser offers WebGL 2 (three.js needs it), asked without three.js, which
// would log an error on the museum's page when it finds none.
const hasWebgl = (): boolean => {
  const gl = document.createElement('canvas').getContext('webgl2');
  gl?.getExtension('WEBGL_lose_context')?.loseContext();
  return gl !== null;
};

/** A 3D view whose pins, clicked (or Enter on the middle of the view), call `choose`.
 * Throws when the browser offers no WebGL. */
export const openModel = (label: string, choose: (id: string | null) => void): ModelSurface => {
  if (!hasWebgl()) throw new Error('no WebGL 2');
  const nothing = () => undefined;
  const scene: ModelScene = new ModelScene(label, {
    click: (x, y) => choose(scene.pinAt(x, y)),
    hover: nothing,
    leave: nothing,
    viewChanged: nothing,
    personMoved: nothing,
  }, PIN_SCALE);
  return {
    node: scene.node,
    load: (url, token, progress) => scene.load(url, progress, token ? { Authorization: `Bearer ${token}` } : {}),
    setPins: (pins) =>
      scene.setPins(pins.map((p) => ({ id: p.id, point: p.point.point, normal: p.point.normal, color: PIN_COLOR, selected: p.chosen, label: p.label }))),
    fly: (point, immediately) => {
      if (point.camera) scene.setView(point.camera, !immediately);
    },
    home: () => scene.goHome(),
    zoom: (factor) => scene.zoom(factor),
    afterFrame: (callback) => scene.afterFrame(callback),
    destroy: () => scene.destroy(),
  };
};
