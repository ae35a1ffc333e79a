// The live 3D subject: the model, its annotations as pins on the surface (a point, its
// normal and the view it was made from), bound to the document through src/binding/, the
// canvas page's comment panel, and presence: colleagues' pointers on the surface, and
// following a colleague's camera.

import * as Y from 'yjs';
import { annotationsOf, createAnnotation, deleteAnnotations, metaOf, modelAssetOf, readAll, readSubject, repliesOf, type AnnotationView, type SubjectMeta } from '../binding/document';
import { surfacePointOf, surfaceTarget, type CameraView, type SurfacePoint } from '../binding/points';
import type { Tag } from '../api/types';
import { Panel, tagsOf } from '../canvas/panel';
import type { LiveSession } from '../binding/session';
import type { TagSource } from '../canvas/tagpicker';
import { META_FIELDS as M } from '../generated/schema';
import { language, t } from '../i18n';
import { followButton, presenceList } from '../presence/list';
import { cameraMoved, colorFor, localPresence, ownColor, peersOf, people, type Peer } from '../presence/model';
import { canDraw, canEdit, type Actor } from '../roles/rules';
import { h, replace } from '../ui/dom';
import { damageEntries } from '../reports/links';
import { ModelScene, type Pin } from './scene';
import { PeopleNames } from '../people/names';

export interface ModelViewOptions {
  ws: string;
  id: string;
  role: string | null;
  me: { id: string; name: string };
  tags: Tag[];
  toast: (message: string, kind?: 'info' | 'error') => void;
}

// Awareness updates at most this often: smooth enough to follow, light on the wire.
const POINTER_MS = 60;
const CAMERA_MS = 120;

const newId = () => crypto.randomUUID().replace(/-/g, '');

export class ModelView {
  readonly node: HTMLElement;
  private readonly stageEl: HTMLElement;
  private readonly statusEl: HTMLElement;
  private readonly toolbar: HTMLElement;
  private readonly banner: HTMLElement;
  private readonly sideEl: HTMLElement;
  private readonly presenceEl: HTMLElement;
  private readonly origin = { local: true };
  private scene: ModelScene | null = null;
  private panel: Panel | null = null;
  private readonly names: PeopleNames;
  private readonly stopNames: () => void;
  private undo: Y.UndoManager | null = null;
  private all = new Map<string, AnnotationView>();
  private points = new Map<string, SurfacePoint>();
  private meta: SubjectMeta | null = null;
  private selected: string | null = null;
  private adding = false;
  private ready = false; // the model is shown: points can be placed
  private peers: Peer[] = [];
  private myColor = '';
  private following: number | null = null;
  private lastFollowed: CameraView | null = null;
  private pointerTimer: ReturnType<typeof setTimeout> | null = null;
  private cameraTimer: ReturnType<typeof setTimeout> | null = null;
  private destroyed = false;
  private readonly observer = () => this.changed();

  constructor(
    private readonly session: LiveSession,
    private readonly o: ModelViewOptions,
  ) {
    // People are named by id in the document: their names are looked up to show.
    this.names = new PeopleNames(o.ws, o.me);
    this.stopNames = this.names.onChange(() => this.panel?.refresh());
    this.statusEl = h('p', { class: 'model-status', role: 'status', 'aria-live': 'polite' }, t('model.opening'));
    this.stageEl = h('div', { class: 'viewer model-viewer', role: 'region', 'aria-label': t('model.stage') });
    this.toolbar = h('div', { class: 'toolbar', role: 'toolbar', 'aria-label': t('model.tools') });
    // Over the model, not above it: the view keeps its size when a banner comes and goes
    // (following a colleague shows the same picture as theirs).
    this.banner = h('div', { class: 'banner model-banner', role: 'status', 'aria-live': 'polite', hidden: true });
    this.presenceEl = h('section', { class: 'presence', 'aria-labelledby': 'presence-title' });
    this.sideEl = h('aside', { class: 'side', 'aria-label': t('canvas.side') });
    this.stageEl.append(this.statusEl, this.banner);
    this.node = h('div', { class: 'canvas-view model-view' }, this.toolbar, h('div', { class: 'canvas-body' }, this.stageEl, this.sideEl));
  }

  private get actor(): Actor {
    return { role: this.o.role, agent: this.o.me.id };
  }

  /** Build everything once the document has synced; false when it names no 3D model. */
  start(): boolean {
    const doc = this.session.doc;
    const meta = readSubject(doc);
    const asset = modelAssetOf(doc);
    if (!meta || !asset) return false;
    this.meta = meta;
    const scene = new ModelScene(t('model.canvasLabel'), {
      click: (x, y) => this.clicked(x, y),
      hover: (x, y) => this.hovered(x, y),
      leave: () => this.session.provider.awareness.setLocalStateField('pointer3d', null),
      viewChanged: () => this.publishCamera(),
      personMoved: () => {
        if (this.following !== null) this.follow(null);
      },
    });
    this.scene = scene;
    this.stageEl.prepend(scene.node);
    void scene
      .load(asset.url, (share) =>
        this.status(share === null ? t('model.loadingUnknown') : t('model.loading', { percent: Math.round(share * 100) })),
      )
      .then(() => {
        if (this.destroyed) return;
        this.status(null);
        this.ready = true;
        this.drawToolbar();
        this.stageEl.dataset.state = 'ready';
        performance.mark('sinopia:model-ready');
        this.drawPins();
        this.publishCamera();
        this.followPeer();
        // Opened from a report's damage entry (?annotation=ID): the point, chosen and
        // shown from where it was seen when it was made.
        if (this.wanted && this.all.has(this.wanted)) this.select(this.wanted, true);
      })
      .catch((error: unknown) => {
        console.error(error);
        if (this.destroyed) return;
        this.stageEl.dataset.state = 'failed';
        this.status(t('model.failed'));
        this.o.toast(t('model.failed'), 'error');
      });

    const tagSources: TagSource[] = [
      { name: t('canvas.tags.workspace'), options: () => this.o.tags.map((tag) => ({ label: tag.label, color: tag.color })) },
      { name: t('canvas.tags.used'), options: () => [...new Set([...this.all.values()].flatMap(tagsOf))].map((label) => ({ label })) },
    ];
    this.panel = new Panel({
      doc,
      origin: this.origin,
      all: () => this.all,
      actor: () => this.actor,
      creator: () => this.creator(),
      nameOf: (agent) => this.names.nameOf(agent),
      visible: () => true,
      colorOf: (v) => colorFor(v.creator?.id ?? v.creator?.name ?? ''),
      tagSources,
      onSelect: (id) => this.select(id, true),
      onDelete: (id) => this.remove(id),
      toast: this.o.toast,
      damageOf: (id) => this.damageOf?.(id) ?? null,
    });
    replace(this.sideEl, this.presenceEl, this.panel.node);
    // The damage entries of condition reports that point at these annotations.
    void damageEntries(this.o.ws, `model/${this.o.id}`).then((of) => {
      this.damageOf = of;
      this.panel?.refresh();
    });
    this.read();
    this.panel.refresh();
    annotationsOf(doc).observeDeep(this.observer);
    this.undo = new Y.UndoManager(annotationsOf(doc), { trackedOrigins: new Set([this.origin]), captureTimeout: 600 });
    this.undo.on('stack-item-added', () => this.drawToolbar());
    this.undo.on('stack-item-popped', () => this.drawToolbar());
    this.presence();
    this.drawToolbar();
    if (!canDraw(this.actor)) this.say(t('canvas.viewerBanner'));
    // Chosen in the list at once; the camera moves to it once the model is drawn.
    if (this.wanted && this.all.has(this.wanted)) this.select(this.wanted, false);
    return true;
  }

  private readonly wanted = new URLSearchParams(location.search).get('annotation');
  private damageOf: ((id: string) => HTMLElement | null) | null = null;

  private creator() {
    return { id: this.o.me.id, type: 'Person' };
  }

  private status(message: string | null): void {
    this.statusEl.hidden = message === null;
    this.statusEl.textContent = message ?? '';
  }

  private read(): void {
    this.all = readAll(this.session.doc);
    this.points.clear();
    const scene = this.meta?.iiifId ?? '';
    for (const view of this.all.values()) {
      const point = surfacePointOf(view.target, scene);
      if (point) this.points.set(view.id, point);
    }
  }

  private changed(): void {
    if (this.destroyed) return;
    this.read();
    this.panel?.refresh();
    if (this.selected && !this.all.has(this.selected)) this.select(null, false);
    this.drawPins();
  }

  private drawPins(): void {
    const pins: Pin[] = [];
    for (const [id, p] of this.points) {
      const view = this.all.get(id)!;
      pins.push({
        id,
        point: p.point,
        normal: p.normal,
        color: colorFor(view.creator?.id ?? view.creator?.name ?? ''),
        selected: id === this.selected,
        label: id,
      });
    }
    this.scene?.setPins(pins);
  }

  // ------------------------------------------------------------------ toolbar

  private drawToolbar(): void {
    const drawing = canDraw(this.actor) && this.ready;
    const saved = this.ready && this.selected ? this.points.get(this.selected)?.camera : null;
    replace(
      this.toolbar,
      h(
        'div',
        { class: 'group', role: 'group', 'aria-label': t('model.tools') },
        h('button', { type: 'button', class: 'tool', 'aria-pressed': this.adding ? 'false' : 'true', onclick: () => this.setAdding(false) }, t('model.turn')),
        h(
          'button',
          { type: 'button', class: 'tool tool-point', 'aria-pressed': this.adding ? 'true' : 'false', disabled: !drawing, onclick: () => this.setAdding(!this.adding) },
          t('model.addPoint'),
        ),
      ),
      h(
        'div',
        { class: 'group', role: 'group', 'aria-label': t('canvas.view') },
        h('button', { type: 'button', disabled: !this.ready, onclick: () => this.scene?.goHome() }, t('model.wholeModel')),
        h('button', { type: 'button', disabled: !saved, onclick: () => saved && this.scene?.setView(saved, true) }, t('model.savedView')),
      ),
      h(
        'div',
        { class: 'group', role: 'group', 'aria-label': t('canvas.edit') },
        h('button', { type: 'button', disabled: !this.undo?.canUndo(), onclick: () => this.undo?.undo() }, t('canvas.undo')),
        h('button', { type: 'button', disabled: !this.undo?.canRedo(), onclick: () => this.undo?.redo() }, t('canvas.redo')),
      ),
    );
  }

  private setAdding(on: boolean): void {
    this.adding = on && canDraw(this.actor) && this.ready;
    this.stageEl.classList.toggle('drawing', this.adding);
    if (this.adding) this.say(t('model.addPointHint'), () => this.setAdding(false), t('model.cancel'));
    else this.say(this.following !== null ? this.followingMessage() : null);
    this.drawToolbar();
  }

  // ------------------------------------------------------------------ picking

  private clicked(x: number, y: number): void {
    const scene = this.scene;
    if (!scene || !this.meta) return;
    if (!this.adding) {
      this.select(scene.pinAt(x, y), false);
      return;
    }
    const hit = scene.pick(x, y);
    if (!hit) {
      this.o.toast(t('model.missed'));
      return;
    }
    const id = newId();
    const point: SurfacePoint = { point: hit.point, normal: hit.normal, camera: scene.view() };
    createAnnotation(
      this.session.doc,
      {
        id,
        motivation: 'commenting',
        target: surfaceTarget(this.meta.iiifId, this.meta.manifest, point, this.sceneType()),
        creator: this.creator(),
        bodies: [{ kind: 'text', value: '', purpose: 'commenting', language: language() }],
      },
      this.origin,
    );
    this.setAdding(false);
    this.select(id, false);
    setTimeout(() => this.panel?.focusComment(), 50);
  }

  private sceneType(): string {
    const type = metaOf(this.session.doc).get(M.IIIF_TYPE);
    return typeof type === 'string' ? type : 'Scene';
  }

  private hovered(x: number, y: number): void {
    if (this.pointerTimer || !this.scene) return;
    this.pointerTimer = setTimeout(() => (this.pointerTimer = null), POINTER_MS);
    const hit = this.scene.pick(x, y);
    const round = (v: number) => Math.round(v * 1e4) / 1e4;
    this.session.provider.awareness.setLocalStateField('pointer3d', hit ? hit.point.map(round) : null);
  }

  private select(id: string | null, fromPanel: boolean): void {
    if (id !== null && !this.all.has(id)) id = null;
    this.selected = id;
    this.panel?.select(id);
    // Which point is lit on the model (the selected pin is larger, with a ring).
    this.stageEl.dataset.selected = id ?? '';
    this.drawPins();
    this.drawToolbar();
    this.session.provider.awareness.setLocalStateField('selection', id ? [id] : []);
    const saved = id ? this.points.get(id)?.camera : null;
    // Opened from the list: show it as it was seen when it was made.
    if (fromPanel && saved) {
      if (this.following !== null) this.follow(null);
      this.scene?.setView(saved, true);
    }
  }

  private remove(id: string): void {
    const view = this.all.get(id);
    if (!view || !canEdit(this.actor, view)) return;
    deleteAnnotations(this.session.doc, [id, ...repliesOf(this.all, id)], this.origin);
    if (id === this.selected) this.select(null, false);
  }

  // ------------------------------------------------------------------ presence

  private presence(): void {
    const awareness = this.session.provider.awareness;
    awareness.setLocalState({ ...localPresence(this.o.me), pointer3d: null, camera: null });
    awareness.on('change', () => {
      this.peers = peersOf(awareness.getStates() as Map<number, unknown>, awareness.clientID);
      this.myColor = ownColor(awareness.getStates() as Map<number, unknown>, awareness.clientID, this.o.me.id);
      this.drawPresence();
      this.followPeer();
    });
    this.drawPresence();
  }

  private publishCamera(): void {
    if (this.cameraTimer || !this.scene) return;
    this.cameraTimer = setTimeout(() => {
      this.cameraTimer = null;
      if (!this.scene || this.destroyed) return;
      const view = this.scene.view();
      const r = (v: number) => Math.round(v * 1e4) / 1e4;
      this.session.provider.awareness.setLocalStateField('camera', {
        position: view.position.map(r),
        target: view.target.map(r),
        fieldOfView: r(view.fieldOfView),
      });
    }, CAMERA_MS);
  }

  private follow(clientId: number | null): void {
    this.following = clientId;
    this.lastFollowed = null;
    if (clientId === null) this.say(this.adding ? t('model.addPointHint') : null);
    this.followPeer();
    this.drawPresence();
  }

  private followingMessage(): string {
    const peer = this.peers.find((p) => p.clientId === this.following);
    return t('presence.followingBanner', { name: peer?.name || t('presence.anonymous') });
  }

  private followPeer(): void {
    if (this.following === null) return;
    const peer = this.peers.find((p) => p.clientId === this.following);
    if (!peer) {
      this.o.toast(t('presence.left'));
      this.follow(null);
      return;
    }
    this.say(this.followingMessage(), () => this.follow(null), t('presence.stop'));
    if (peer.camera && this.scene && cameraMoved(this.lastFollowed, peer.camera)) {
      this.lastFollowed = peer.camera;
      this.scene.setView(peer.camera, true);
    }
  }

  private drawPresence(): void {
    const present = people(this.peers);
    replace(
      this.presenceEl,
      ...presenceList(this.o.me, this.myColor || colorFor(this.o.me.id), present, (p) =>
        p.camera ? followButton(p, this.following, (id) => this.follow(id)) : null,
      ),
    );
    this.scene?.setPointers(
      this.peers
        .filter((p) => p.pointer3d)
        .map((p) => ({ key: String(p.clientId), point: p.pointer3d!, color: p.color, name: p.name || t('presence.anonymous') })),
    );
  }

  private say(message: string | null, action?: () => void, actionLabel?: string): void {
    if (!message && !canDraw(this.actor)) message = t('canvas.viewerBanner');
    if (!message) {
      this.banner.hidden = true;
      replace(this.banner);
      return;
    }
    this.banner.hidden = false;
    replace(this.banner, h('span', null, message), action && actionLabel ? h('button', { type: 'button', onclick: action }, actionLabel) : null);
  }

  destroy(): void {
    this.destroyed = true;
    if (this.pointerTimer) clearTimeout(this.pointerTimer);
    if (this.cameraTimer) clearTimeout(this.cameraTimer);
    annotationsOf(this.session.doc).unobserveDeep(this.observer);
    this.undo?.destroy();
    this.panel?.destroy();
    this.scene?.destroy();
    this.stopNames();
  }
}
