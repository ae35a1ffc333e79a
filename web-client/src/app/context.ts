import type { Me } from '../api/types';

export interface Crumb {
  label: string;
  href?: string;
}

/** What a page gets from the shell. */
export interface AppContext {
  me: Me;
  navigate(path: string): void;
  crumbs(items: Crumb[]): void;
  /** A status element shown in the header (the live connection state), or null. */
  status(el: HTMLElement | null): void;
  toast(message: string, kind?: 'info' | 'error'): void;
  /** Render the current page again (after a language change). */
  rerender(): void;
}

export interface PageView {
  title: string;
  node: HTMLElement;
  dispose?(): void;
}

/** The role `me` has on a workspace (administrators act as owner everywhere). */
export const roleIn = (me: Me, ws: string): string | null =>
  me.memberships.find((m) => m.workspace === ws)?.role ?? (me.user?.admin && me.scope === null ? 'owner' : null);
