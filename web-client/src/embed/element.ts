// <sinopia-viewer server document share [lang] [iiif-content]>: a live, read-only view
// of one subject and its annotations, for museum websites. This entry is small: it
// defines the element and loads the viewer (Yjs, and OpenSeadragon for an image or
// three.js for a 3D model) from Sinopia only when an element is on the page. Everything
// lives in the element's shadow root: no CSS or globals reach the host page.

import css from './embed.css?inline';
import { EMBED_MESSAGES, type EmbedLanguage } from './messages';
import type { Viewer } from './viewer';

const ATTRIBUTES = ['server', 'document', 'share', 'lang', 'iiif-content'] as const;

const languageOf = (el: HTMLElement): EmbedLanguage => {
  const tags = [el.getAttribute('lang'), el.closest('[lang]')?.getAttribute('lang'), ...(navigator.languages ?? [])];
  for (const tag of tags) {
    const base = tag?.toLowerCase().split('-')[0];
    if (base && base in EMBED_MESSAGES) return base as EmbedLanguage;
  }
  return 'en';
};

let sheet: CSSStyleSheet | null = null;
const styles = (): CSSStyleSheet => {
  if (!sheet) {
    // A constructed stylesheet: no <style> element, so a host page's CSP that forbids
    // inline styles does not stop it, and none of it applies outside the shadow root.
    sheet = new CSSStyleSheet();
    sheet.replaceSync(css);
  }
  return sheet;
};

class SinopiaViewer extends HTMLElement {
  static readonly observedAttributes = ATTRIBUTES;
  private readonly root: ShadowRoot;
  private viewer: Viewer | null = null;
  private generation = 0;
  private pending = false;

  constructor() {
    super();
    this.root = this.attachShadow({ mode: 'open' });
    this.root.adoptedStyleSheets = [styles()];
  }

  connectedCallback(): void {
    this.schedule();
  }

  disconnectedCallback(): void {
    this.generation++;
    this.viewer?.destroy();
    this.viewer = null;
  }

  attributeChangedCallback(): void {
    if (this.isConnected) this.schedule();
  }

  // Attributes set one after another (a CMS, a framework) start one viewer, not several.
  private schedule(): void {
    if (this.pending) return;
    this.pending = true;
    queueMicrotask(() => {
      this.pending = false;
      if (this.isConnected) void this.start();
    });
  }

  private async start(): Promise<void> {
    const generation = ++this.generation;
    this.viewer?.destroy();
    this.viewer = null;
    const options = {
      server: (this.getAttribute('server') ?? '').trim(),
      document: (this.getAttribute('document') ?? '').trim(),
      share: (this.getAttribute('share') ?? '').trim(),
      contentState: this.getAttribute('iiif-content'),
      language: languageOf(this),
    };
    // An image's deep-zoom viewer is asked for with the viewer, not after it (the
    // document's name says it is not a model); the viewer's own import of it then finds
    // it loaded or on its way. (A model's 3D code is asked for by the viewer: asked for
    // here, the code both share would become one more chunk.)
    if (options.document.split('/')[1] !== 'model') import('openseadragon').catch(() => undefined);
    const { mountViewer } = await import('./viewer');
    if (generation !== this.generation) return;
    this.viewer = mountViewer(this, this.root, options);
  }
}

if (!customElements.get('sinopia-viewer')) customElements.define('sinopia-viewer', SinopiaViewer);
