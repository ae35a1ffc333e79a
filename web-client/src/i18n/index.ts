// Message catalogues, one per language; the app shows no text that is not in them.
// The language is the one chosen in the app (kept in this browser), else the browser's
// first supported one, else English.

import { en, type Messages } from './en';

export type Key = keyof Messages;
export const LANGUAGES = ['en', 'fr', 'de', 'it'] as const;
export type Language = (typeof LANGUAGES)[number];

const STORAGE = 'sinopia.language';
const loaders: Record<Language, () => Promise<Messages>> = {
  en: async () => en,
  fr: async () => (await import('./fr')).fr,
  de: async () => (await import('./de')).de,
  it: async () => (await import('./it')).it,
};

let current: Language = 'en';
let messages: Messages = en;

export const isLanguage = (v: unknown): v is Language => LANGUAGES.includes(v as Language);

export const preferredLanguage = (stored: string | null, browser: readonly string[]): Language => {
  if (isLanguage(stored)) return stored;
  for (const tag of browser) {
    const base = tag.toLowerCase().split('-')[0];
    if (isLanguage(base)) return base;
  }
  return 'en';
};

const stored = (): string | null => {
  try {
    return localStorage.getItem(STORAGE);
  } catch {
    return null;
  }
};

export const setLanguage = async (language: Language, remember = true): Promise<void> => {
  messages = await loaders[language]();
  current = language;
  document.documentElement.lang = language;
  if (remember)
    try {
      localStorage.setItem(STORAGE, language);
    } catch {
      // private mode: the choice lasts this page only
    }
};

export const initLanguage = (): Promise<void> =>
  setLanguage(preferredLanguage(stored(), navigator.languages ?? [navigator.language]), false);

export const language = (): Language => current;

/** The message `key`, with `{name}` placeholders filled. */
export const t = (key: Key, vars: Record<string, string | number> = {}): string =>
  (messages[key] ?? en[key]).replace(/\{(\w+)\}/g, (m, name: string) =>
    name in vars ? String(vars[name]) : m,
  );

/** A count: `key` names `{key}_one` / `{key}_other` messages. */
export const tn = (key: string, count: number, vars: Record<string, string | number> = {}): string => {
  const form = new Intl.PluralRules(current).select(count) === 'one' ? 'one' : 'other';
  return t(`${key}_${form}` as Key, { count, ...vars });
};

export const formatTime = (iso: string | number): string => {
  const d = new Date(iso);
  return Number.isNaN(d.getTime())
    ? String(iso)
    : new Intl.DateTimeFormat(current, { dateStyle: 'medium', timeStyle: 'short' }).format(d);
};

export const LANGUAGE_NAMES: Record<Language, string> = {
  en: 'English',
  fr: 'Français',
  de: 'Deutsch',
  it: 'Italiano',
};
