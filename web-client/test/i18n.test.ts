import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { de } from '../src/i18n/de';
import { en } from '../src/i18n/en';
import { fr } from '../src/i18n/fr';
import { it as italian } from '../src/i18n/it';
import { preferredLanguage } from '../src/i18n';

const placeholders = (s: string) => [...s.matchAll(/\{(\w+)\}/g)].map((m) => m[1]).sort();

describe('message catalogues', () => {
  for (const [name, catalogue] of Object.entries({ fr, de, it: italian }))
    it(`${name} has every English message, with the same placeholders`, () => {
      expect(Object.keys(catalogue).sort()).toEqual(Object.keys(en).sort());
      for (const key of Object.keys(en) as (keyof typeof en)[]) {
        expect(placeholders(catalogue[key]), key).toEqual(placeholders(en[key]));
        expect(catalogue[key].trim(), key).not.toBe('');
      }
    });

  it('has every key the code asks for', () => {
    const keys = new Set(Object.keys(en));
    const missing: string[] = [];
    const walk = (dir: string) => {
      for (const entry of readdirSync(dir, { withFileTypes: true })) {
        const path = join(dir, entry.name);
        if (entry.isDirectory()) walk(path);
        else if (path.endsWith('.ts') && !path.includes('i18n')) {
          const source = readFileSync(path, 'utf8');
          for (const m of source.matchAll(/\bt\('([\w.]+)'/g)) if (!keys.has(m[1]!)) missing.push(`${path}: ${m[1]}`);
          for (const m of source.matchAll(/\btn\('([\w.]+)'/g))
            for (const form of ['one', 'other']) if (!keys.has(`${m[1]}_${form}`)) missing.push(`${path}: ${m[1]}_${form}`);
        }
      }
    };
    walk(join(import.meta.dirname, '..', 'src'));
    expect(missing).toEqual([]);
  });

  it('chooses the stored language, else the browser’s first supported one, else English', () => {
    expect(preferredLanguage('de', ['fr-FR'])).toBe('de');
    expect(preferredLanguage(null, ['es-ES', 'it-IT', 'fr'])).toBe('it');
    expect(preferredLanguage('xx', ['pt-BR'])).toBe('en');
  });
});
