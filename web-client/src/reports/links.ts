// The canvas page's side of the links between damage entries and annotations: the damage
// vocabulary as a source of the tag picker, and the damage entries that point at an
// annotation of this canvas (each a link to its entry in its report).

import { enc, get } from '../api/http';
import type { TagSource } from '../canvas/tagpicker';
import { subjectPath } from '../app/routes';
import { t } from '../i18n';
import { h } from '../ui/dom';
import { CURATED, termLabel, type DamageTerm } from './labels';
import { loadDamageTerms } from './terms';

/** The workspace's damage terms in the canvas page's tag picker: each stored as a
 * SpecificResource body whose source is the term's IRI, labelled in the UI language. */
export const damageTagSource = (ws: string): TagSource => {
  let terms: DamageTerm[] = CURATED;
  void loadDamageTerms(ws).then((loaded) => (terms = loaded));
  const base = `${location.origin}/api/vocabularies/${enc(ws)}/damage/`;
  return {
    name: t('report.tags.damage'),
    options: () =>
      terms.map((term) => {
        const label = termLabel(terms, term.value);
        return { label, source: { id: base + enc(term.value), label } };
      }),
  };
};

interface Linked {
  id: string;
  title: string;
  damage: { id: string; term: string; annotations: string[] }[];
}

/** For each annotation of `subject` (canvas/<id>), the damage entries that link to it. */
export const damageEntries = async (ws: string, subject: string): Promise<(annotation: string) => HTMLElement | null> => {
  let reports: Linked[] = [];
  let terms: DamageTerm[] = CURATED;
  try {
    [{ reports }, terms] = await Promise.all([
      get<{ reports: Linked[] }>(`/api/reports/${enc(ws)}?subject=${enc(subject)}`),
      loadDamageTerms(ws),
    ]);
  } catch {
    // No reports to show: the canvas works without them.
  }
  return (annotation) => {
    const found = reports.flatMap((r) => r.damage.filter((d) => d.annotations.includes(annotation)).map((d) => ({ r, d })));
    if (!found.length) return null;
    return h(
      'div',
      { class: 'damage-links' },
      h('h3', null, t('report.canvas.damage')),
      h(
        'ul',
        null,
        found.map(({ r, d }) =>
          h(
            'li',
            null,
            h('a', { href: `${subjectPath(ws, 'report', r.id)}?damage=${enc(d.id)}` }, t('report.canvas.inReport', { term: termLabel(terms, d.term), report: r.title || r.id })),
          ),
        ),
      ),
    );
  };
};
