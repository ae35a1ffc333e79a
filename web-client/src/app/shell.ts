// The frame around every page: header (home, where you are, connection state, language,
// who you are, sign out), the page itself, and messages. Routes on location.pathname.

import { ApiError, get, post, setCsrf } from '../api/http';
import type { Me } from '../api/types';
import { LANGUAGE_NAMES, LANGUAGES, isLanguage, language, setLanguage, t } from '../i18n';
import { h, replace } from '../ui/dom';
import type { AppContext, Crumb, PageView } from './context';
import { errorPage } from './errors';
import { policyIsStale, watchPolicy } from './policy';
import { parseRoute } from './routes';
import type { Kind } from '../generated/schema';

type SubjectPage = (app: AppContext, ws: string, id: string) => Promise<PageView>;

// The page of each kind of document, loaded only when one is opened (each its own folder).
// null: not yet in the app (an "unsupported" page says so).
const SUBJECT_PAGES: Record<Kind, () => Promise<SubjectPage | null>> = {
  canvas: async () => (await import('../canvas/page')).canvasPage,
  model: async () => (await import('../model/page')).modelPage,
  report: async () => (await import('../reports/page')).reportPage,
};

export const boot = async (root: HTMLElement): Promise<void> => {
  watchPolicy();
  // A subject page's code is fetched while /api/me is asked: the page needs both.
  const route = parseRoute(location.pathname);
  if (route.name === 'subject') void SUBJECT_PAGES[route.kind]().catch(() => null);
  let me: Me;
  try {
    me = await get<Me>('/api/me');
  } catch (error) {
    if (error instanceof ApiError && error.status === 401) {
      const { signInPage } = await import('../signin/page');
      const show = async (): Promise<void> => mount(root, await signInPage(), () => void show());
      await show();
      return;
    }
    mount(root, errorPage(error instanceof ApiError && error.status === 0 ? 'network' : 'server'), () => void boot(root));
    return;
  }
  setCsrf(me.csrf_token);
  new Shell(root, me).start();
};

/** The language chooser; `changed` redraws the page in the new language. */
const languageSelect = (changed: () => void): HTMLElement => {
  const select = h(
    'select',
    {
      id: 'language',
      onchange: async (e: Event) => {
        const value = (e.target as HTMLSelectElement).value;
        if (isLanguage(value)) {
          await setLanguage(value);
          changed();
        }
      },
    },
    LANGUAGES.map((l) => h('option', { value: l, selected: l === language(), lang: l }, LANGUAGE_NAMES[l])),
  );
  return h('label', { class: 'language', for: 'language' }, h('span', { class: 'visually-hidden' }, t('shell.language')), select);
};

/** A page before anyone is signed in: Sinopia's name and the language, nothing else. */
const mount = (root: HTMLElement, page: PageView, changed: () => void) => {
  document.title = `${page.title} · Sinopia`;
  const header = h('header', { class: 'top' }, h('span', { class: 'brand' }, 'Sinopia'), h('span', { class: 'spacer' }), languageSelect(changed));
  const main = h('main', { id: 'main', tabindex: -1 }, page.node);
  replace(root, h('a', { class: 'skip', href: '#main' }, t('shell.skip')), header, main);
};

class Shell implements AppContext {
  private page: PageView | null = null;
  private readonly crumbsEl = h('ol', { class: 'crumbs' });
  private readonly statusEl = h('div', { class: 'status-slot' });
  private readonly toasts = h('div', { class: 'toasts', role: 'status', 'aria-live': 'polite' });
  private readonly main = h('main', { id: 'main', tabindex: -1 });
  private generation = 0;

  constructor(
    private readonly root: HTMLElement,
    readonly me: Me,
  ) {}

  start(): void {
    window.addEventListener('popstate', () => (policyIsStale() ? location.reload() : void this.show()));
    document.addEventListener('click', (event) => this.follow(event));
    void this.show();
  }

  private follow(event: MouseEvent): void {
    if (event.defaultPrevented || event.button !== 0 || event.metaKey || event.ctrlKey || event.shiftKey || event.altKey)
      return;
    const link = (event.target as Element | null)?.closest?.('a');
    if (!link || link.target || link.hasAttribute('download')) return;
    const url = new URL(link.href, location.href);
    if (url.origin !== location.origin || !(url.pathname === '/' || url.pathname.startsWith('/w/'))) return;
    if (url.pathname === location.pathname && url.search === location.search && url.hash) return;
    event.preventDefault();
    this.navigate(url.pathname + url.search);
  }

  navigate(path: string): void {
    // The policy refused an image server named since the page was loaded: load the next
    // page, whose policy names it (app/policy.ts).
    if (policyIsStale()) return location.assign(path);
    if (path !== location.pathname + location.search) history.pushState(null, '', path);
    void this.show();
  }

  crumbs(items: Crumb[]): void {
    replace(
      this.crumbsEl,
      h('li', null, h('a', { href: '/' }, t('shell.home'))),
      items.map((c, i) =>
        h('li', null, c.href && i < items.length - 1 ? h('a', { href: c.href }, c.label) : h('span', { 'aria-current': 'page' }, c.label)),
      ),
    );
  }

  status(el: HTMLElement | null): void {
    replace(this.statusEl, el);
  }

  // An arrow function: pages hand `ctx.toast` on as a plain function.
  readonly toast = (message: string, kind: 'info' | 'error' = 'info'): void => {
    const item = h(
      'div',
      { class: `toast toast-${kind}`, role: kind === 'error' ? 'alert' : null },
      h('span', null, message),
      h('button', { type: 'button', class: 'quiet', 'aria-label': t('shell.dismiss'), onclick: () => item.remove() }, '×'),
    );
    this.toasts.append(item);
    setTimeout(() => item.remove(), kind === 'error' ? 12000 : 5000);
  };

  rerender(): void {
    void this.show();
  }

  private header(): HTMLElement {
    const name = this.me.user?.display_name || this.me.user?.name || this.me.principal;
    return h(
      'header',
      { class: 'top' },
      h('a', { class: 'brand', href: '/' }, 'Sinopia'),
      h('nav', { 'aria-label': t('shell.breadcrumbs') }, this.crumbsEl),
      this.statusEl,
      languageSelect(() => this.rerender()),
      h('span', { class: 'who', title: this.me.principal }, t('shell.signedInAs', { name })),
      h('button', { type: 'button', class: 'quiet', onclick: () => void this.signOut() }, t('shell.signOut')),
    );
  }

  private async signOut(): Promise<void> {
    try {
      await post('/api/auth/logout');
    } catch {
      // Signed out or not, the sign-in page is where to go.
    }
    location.assign('/');
  }

  private async show(): Promise<void> {
    const generation = ++this.generation;
    this.page?.dispose?.();
    this.page = null;
    this.status(null);
    const route = parseRoute(location.pathname);
    let page: PageView;
    try {
      if (route.name === 'home') {
        this.crumbs([]);
        page = await (await import('../home/page')).homePage(this);
      } else if (route.name === 'workspace') {
        this.crumbs([{ label: route.ws }]);
        page = await (await import('../workspace/page')).workspacePage(this, route.ws);
      } else if (route.name === 'subject') {
        this.crumbs([{ label: route.ws, href: `/w/${encodeURIComponent(route.ws)}` }, { label: route.id }]);
        const open = await SUBJECT_PAGES[route.kind]();
        page = open
          ? await open(this, route.ws, route.id)
          : errorPage('unsupported', { back: { href: `/w/${encodeURIComponent(route.ws)}`, label: t('error.backToWorkspace') } });
      } else {
        this.crumbs([]);
        page = errorPage('not-found');
      }
    } catch (error) {
      console.error(error);
      page = errorPage('server');
    }
    if (generation !== this.generation) {
      page.dispose?.();
      return;
    }
    this.page = page;
    document.title = `${page.title} · Sinopia`;
    replace(this.main, page.node);
    replace(this.root, h('a', { class: 'skip', href: '#main' }, t('shell.skip')), this.header(), this.main, this.toasts);
    this.main.focus({ preventScroll: true });
  }
}
