// The 3D view (three.js): the model as its glTF places it (so scene coordinates are the
// model's, the ones annotations store), a camera orbiting it, pins for annotations along
// their surface normals, colleagues' pointers with their names, and picking: which point
// of the surface (and its normal) is under the mouse.
//
// Rendering is on demand (a change of camera, pins or pointers asks for one frame), so an
// open page idles at no cost, which matters on software WebGL.

import * as THREE from 'three';
import { OrbitControls } from 'three/addons/controls/OrbitControls.js';
import { GLTFLoader } from 'three/addons/loaders/GLTFLoader.js';
import type { CameraView, Vec3 } from '../binding/points';
import { h } from '../ui/dom';

export interface Pin {
  id: string;
  point: Vec3;
  normal: Vec3 | null;
  color: string;
  selected: boolean;
  label: string;
}

export interface Pointer {
  key: string;
  point: Vec3;
  color: string;
  name: string;
}

export interface Picked {
  point: Vec3;
  normal: Vec3 | null;
}

// How long moving the camera to a saved or followed view takes: long enough to see where
// one goes, short enough not to wait for it.
const FLY_MS = 450;
// A press that moves less than this many pixels is a click, not a turn of the model.
const CLICK_SLOP = 5;
// A click this close (screen pixels) to a pin's head still chooses it.
const PIN_SLOP_PX = 14;
const BACKGROUND = 0xe8e6e1;
// A pin's head, as a share of the model's radius: visible, not hiding the surface.
const PIN_SIZE = 0.022;

const v3 = (v: THREE.Vector3): Vec3 => [v.x, v.y, v.z];

export class ModelScene {
  readonly node: HTMLElement;
  readonly canvas: HTMLCanvasElement;
  private readonly renderer: THREE.WebGLRenderer;
  private readonly scene = new THREE.Scene();
  private readonly camera: THREE.PerspectiveCamera;
  private readonly controls: OrbitControls;
  private readonly pins = new THREE.Group();
  private readonly pointers = new THREE.Group();
  private readonly labels: HTMLElement;
  private readonly raycaster = new THREE.Raycaster();
  private model: THREE.Object3D | null = null;
  private radius = 1;
  private frame = 0;
  private flight = 0;
  private pointerLabels: { el: HTMLElement; point: THREE.Vector3 }[] = [];
  private readonly resize: ResizeObserver;
  private down: { x: number; y: number } | null = null;

  constructor(
    label: string,
    private readonly events: {
      click(x: number, y: number): void;
      hover(x: number, y: number): void;
      leave(): void;
      /** The camera moved (by the person, a flight or following). */
      viewChanged(): void;
      /** The person started turning, zooming or moving the model themselves. */
      personMoved(): void;
    },
    // Pins larger than the app's (a museum's visitor looks for them, a conservator
    // looks past them): a factor on their size.
    private readonly pinScale = 1,
  ) {
    this.canvas = h('canvas', { class: 'model-canvas', tabindex: 0, 'aria-label': label });
    this.labels = h('div', { class: 'model-labels', 'aria-hidden': 'true' });
    this.node = h('div', { class: 'model-stage' }, this.canvas, this.labels);
    this.renderer = new THREE.WebGLRenderer({ canvas: this.canvas, antialias: true, preserveDrawingBuffer: true });
    this.renderer.setPixelRatio(Math.min(window.devicePixelRatio || 1, 2));
    this.renderer.outputColorSpace = THREE.SRGBColorSpace;
    this.scene.background = new THREE.Color(BACKGROUND);
    this.camera = new THREE.PerspectiveCamera(45, 1, 0.01, 1000);
    this.scene.add(new THREE.HemisphereLight(0xffffff, 0x8a8178, 2.2));
    const key = new THREE.DirectionalLight(0xffffff, 1.6);
    key.position.set(0.5, 1, 0.8);
    this.camera.add(key); // a light from the viewer's side: what they look at is lit
    this.scene.add(this.camera, this.pins, this.pointers);
    this.controls = new OrbitControls(this.camera, this.canvas);
    this.controls.enableDamping = false;
    this.controls.addEventListener('change', () => {
      this.request();
      this.events.viewChanged();
    });
    this.controls.addEventListener('start', () => {
      this.flight = 0;
      this.events.personMoved();
    });
    this.canvas.addEventListener('pointerdown', (e) => (this.down = { x: e.clientX, y: e.clientY }));
    this.canvas.addEventListener('pointerup', (e) => {
      const start = this.down;
      this.down = null;
      if (start && Math.hypot(e.clientX - start.x, e.clientY - start.y) < CLICK_SLOP) this.events.click(e.clientX, e.clientY);
    });
    this.canvas.addEventListener('pointermove', (e) => this.events.hover(e.clientX, e.clientY));
    // From the keyboard: arrows move the model, Enter "clicks" the middle of the view.
    this.controls.listenToKeyEvents(this.canvas);
    this.canvas.addEventListener('keydown', (e) => {
      if (e.key !== 'Enter') return;
      e.preventDefault();
      const r = this.canvas.getBoundingClientRect();
      this.events.click(r.left + r.width / 2, r.top + r.height / 2);
    });
    this.canvas.addEventListener('pointerleave', () => this.events.leave());
    this.resize = new ResizeObserver(() => this.fit());
    this.resize.observe(this.node);
  }

  private fit(): void {
    const { clientWidth: w, clientHeight: h } = this.node;
    if (!w || !h) return;
    this.renderer.setSize(w, h, false);
    this.camera.aspect = w / h;
    this.camera.updateProjectionMatrix();
    this.request();
  }

  /** Load the glTF / GLB at `url`; `progress` gets 0..1 while it downloads (when the
   * server says how large it is). `headers` go with the request (the embed's share link,
   * as a bearer header: another origin's page sends no cookies). */
  async load(url: string, progress: (share: number | null) => void, headers: Record<string, string> = {}): Promise<void> {
    const loader = new GLTFLoader();
    loader.setRequestHeader(headers);
    const gltf = await loader.loadAsync(url, (event) => progress(event.total ? event.loaded / event.total : null));
    this.model = gltf.scene;
    this.scene.add(gltf.scene);
    const box = new THREE.Box3().setFromObject(gltf.scene);
    const sphere = box.getBoundingSphere(new THREE.Sphere());
    this.radius = sphere.radius || 1;
    this.camera.near = this.radius / 100;
    this.camera.far = this.radius * 100;
    this.controls.target.copy(sphere.center);
    // The whole model in view across the narrower side of the view (a phone held upright
    // is narrower than it is high).
    this.fit();
    const half = Math.atan(Math.tan(THREE.MathUtils.degToRad(this.camera.fov / 2)) * Math.min(1, this.camera.aspect));
    const distance = this.radius / Math.sin(half);
    this.camera.position.copy(sphere.center).add(new THREE.Vector3(0.6, 0.45, 1).normalize().multiplyScalar(distance * 1.1));
    this.camera.updateProjectionMatrix();
    this.controls.update();
    this.home = this.view();
    this.fit();
  }

  private home: CameraView | null = null;

  goHome(): void {
    if (this.home) this.setView(this.home, true);
  }

  /** Move the camera towards what it looks at (`factor` > 1) or away from it (< 1), as
   * the wheel does: for buttons and keys. */
  zoom(factor: number): void {
    const offset = this.camera.position.clone().sub(this.controls.target);
    const distance = THREE.MathUtils.clamp(offset.length() / factor, this.radius / 50, this.radius * 20);
    this.camera.position.copy(this.controls.target).add(offset.setLength(distance));
    this.controls.update();
  }

  /** Call `callback` once, right after the next frame is drawn. */
  afterFrame(callback: () => void): void {
    this.drawn.push(callback);
    this.request();
  }

  private drawn: (() => void)[] = [];

  private ndc(x: number, y: number): THREE.Vector2 {
    const r = this.canvas.getBoundingClientRect();
    return new THREE.Vector2(((x - r.left) / r.width) * 2 - 1, -((y - r.top) / r.height) * 2 + 1);
  }

  /** The point of the model's surface under the screen point, with its outward normal. */
  pick(x: number, y: number): Picked | null {
    if (!this.model) return null;
    this.raycaster.setFromCamera(this.ndc(x, y), this.camera);
    const hit = this.raycaster.intersectObject(this.model, true)[0];
    if (!hit) return null;
    let normal: Vec3 | null = null;
    if (hit.face) {
      const n = hit.face.normal.clone().transformDirection(hit.object.matrixWorld);
      // Facing the camera: a pin on a face seen from behind points at the viewer.
      if (n.dot(this.raycaster.ray.direction) > 0) n.negate();
      normal = v3(n);
    }
    return { point: v3(hit.point), normal };
  }

  /** The annotation pin under the screen point, or the nearest head within PIN_SLOP_PX
   * of it (a finger, or Enter on the middle of the view, is not a precise pointer). */
  pinAt(x: number, y: number): string | null {
    this.raycaster.setFromCamera(this.ndc(x, y), this.camera);
    const hit = this.raycaster.intersectObjects(this.pins.children, false)[0];
    if (hit && !this.behindModel(hit.distance)) return (hit.object.userData.id as string | undefined) ?? null;
    const r = this.canvas.getBoundingClientRect();
    let best: string | null = null;
    let nearest = PIN_SLOP_PX;
    for (const head of this.pins.children) {
      if (!(head instanceof THREE.Mesh) || !(head.geometry instanceof THREE.SphereGeometry)) continue;
      const p = head.position.clone().project(this.camera);
      if (p.z > 1) continue;
      const away = Math.hypot(r.left + ((p.x + 1) / 2) * r.width - x, r.top + ((1 - p.y) / 2) * r.height - y);
      if (away >= nearest) continue;
      this.raycaster.set(this.camera.position, head.position.clone().sub(this.camera.position).normalize());
      if (this.behindModel(this.camera.position.distanceTo(head.position))) continue;
      best = (head.userData.id as string | undefined) ?? null;
      nearest = away;
    }
    return best;
  }

  /** Whether the model's surface comes first along the raycaster's ray, before
   * `distance`: a pin on the far side is not what the person pointed at. */
  private behindModel(distance: number): boolean {
    const surface = this.model ? this.raycaster.intersectObject(this.model, true)[0] : undefined;
    return surface !== undefined && surface.distance < distance - this.radius * 0.05;
  }

  view(): CameraView {
    return { position: v3(this.camera.position), target: v3(this.controls.target), fieldOfView: this.camera.fov };
  }

  /** Move the camera to `view`, flying there unless `animate` is false. */
  setView(view: CameraView, animate: boolean): void {
    const fromPosition = this.camera.position.clone();
    const fromTarget = this.controls.target.clone();
    const fromFov = this.camera.fov;
    const toPosition = new THREE.Vector3(...view.position);
    const toTarget = new THREE.Vector3(...view.target);
    const apply = (f: number) => {
      const e = f < 0.5 ? 2 * f * f : 1 - (-2 * f + 2) ** 2 / 2;
      this.camera.position.lerpVectors(fromPosition, toPosition, e);
      this.controls.target.lerpVectors(fromTarget, toTarget, e);
      this.camera.fov = fromFov + (view.fieldOfView - fromFov) * e;
      this.camera.updateProjectionMatrix();
      this.controls.update();
    };
    if (!animate) {
      this.flight = 0;
      apply(1);
      return;
    }
    const start = performance.now();
    const flight = ++this.flight;
    const step = () => {
      if (flight !== this.flight) return;
      const f = Math.min(1, (performance.now() - start) / FLY_MS);
      apply(f);
      if (f < 1) requestAnimationFrame(step);
    };
    requestAnimationFrame(step);
  }

  setPins(pins: Pin[]): void {
    this.clear(this.pins);
    const size = this.radius * PIN_SIZE * this.pinScale;
    for (const pin of pins) {
      // A pushpin: a stem along the surface normal and a shaded head, so a pin reads as
      // standing on the surface (and says which way the surface faces).
      const normal = new THREE.Vector3(...(pin.normal ?? [0, 0, 0]));
      const base = new THREE.Vector3(...pin.point);
      const scale = pin.selected ? 1.45 : 1;
      const at = base.clone().addScaledVector(normal, size * 2.2 * scale);
      const color = new THREE.Color(pin.color);
      const head = new THREE.Mesh(
        new THREE.SphereGeometry(size * scale, 20, 14),
        new THREE.MeshLambertMaterial({ color, emissive: color.clone().multiplyScalar(0.35) }),
      );
      head.position.copy(at);
      head.userData.id = pin.id;
      head.name = pin.label;
      this.pins.add(head);
      if (pin.normal) {
        const length = at.distanceTo(base);
        const stem = new THREE.Mesh(
          new THREE.CylinderGeometry(size * 0.18, size * 0.18, length, 8),
          new THREE.MeshBasicMaterial({ color: 0x3a3a3a }),
        );
        stem.position.copy(base.clone().lerp(at, 0.5));
        stem.quaternion.setFromUnitVectors(new THREE.Vector3(0, 1, 0), normal.clone().normalize());
        stem.userData.id = pin.id;
        this.pins.add(stem);
      }
      if (pin.selected) {
        // A white ring on the surface around the selected pin; hidden, like the pin, when
        // that side of the model faces away.
        const ring = new THREE.Mesh(
          new THREE.TorusGeometry(size * 2.2, size * 0.32, 8, 32),
          new THREE.MeshBasicMaterial({ color: 0xffffff }),
        );
        const onSurface = base.clone().addScaledVector(normal, size * 0.3);
        ring.position.copy(pin.normal ? onSurface : at);
        if (pin.normal) ring.lookAt(onSurface.clone().add(normal));
        else ring.lookAt(this.camera.position);
        ring.userData.id = pin.id;
        this.pins.add(ring);
      }
    }
    this.request();
  }

  setPointers(pointers: Pointer[]): void {
    this.clear(this.pointers);
    this.labels.replaceChildren();
    this.pointerLabels = [];
    const size = this.radius * 0.02;
    for (const p of pointers) {
      // A colleague's pointer: a hollow ring facing the viewer (pins are solid), with
      // their name beside it.
      const mark = new THREE.Mesh(
        new THREE.RingGeometry(size * 0.9, size * 1.5, 24),
        new THREE.MeshBasicMaterial({ color: p.color, transparent: true, opacity: 0.95, depthTest: false, side: THREE.DoubleSide }),
      );
      mark.position.set(...p.point);
      mark.quaternion.copy(this.camera.quaternion);
      mark.renderOrder = 2;
      this.pointers.add(mark);
      const el = h('span', { class: 'model-pointer-label' }, p.name);
      el.style.borderColor = p.color;
      this.labels.append(el);
      this.pointerLabels.push({ el, point: mark.position.clone() });
    }
    this.request();
  }

  private clear(group: THREE.Group): void {
    for (const child of [...group.children]) {
      group.remove(child);
      if (child instanceof THREE.Mesh) {
        child.geometry.dispose();
        (child.material as THREE.Material).dispose();
      }
    }
  }

  private request(): void {
    if (this.frame) return;
    this.frame = requestAnimationFrame(() => {
      this.frame = 0;
      for (const mark of this.pointers.children) mark.quaternion.copy(this.camera.quaternion);
      this.renderer.render(this.scene, this.camera);
      const { clientWidth: w, clientHeight: hgt } = this.node;
      for (const { el, point } of this.pointerLabels) {
        const p = point.clone().project(this.camera);
        el.hidden = p.z > 1;
        el.style.left = `${((p.x + 1) / 2) * w}px`;
        el.style.top = `${((1 - p.y) / 2) * hgt}px`;
      }
      for (const callback of this.drawn.splice(0)) callback();
    });
  }

  destroy(): void {
    this.flight = 0;
    if (this.frame) cancelAnimationFrame(this.frame);
    this.resize.disconnect();
    this.controls.dispose();
    this.clear(this.pins);
    this.clear(this.pointers);
    this.renderer.dispose();
    // Its WebGL context goes now, not when collected: a browser keeps only a few alive.
    this.renderer.forceContextLoss();
  }
}
