// The workspace's damage vocabulary (the curated AAT list and the workspace's own terms).

import { enc, get } from '../api/http';
import { language } from '../i18n';
import { CURATED, type DamageTerm } from './labels';

export const loadDamageTerms = async (ws: string): Promise<DamageTerm[]> => {
  try {
    const answer = await get<{ terms: DamageTerm[] }>(`/api/vocabularies/${enc(ws)}/damage?lang=${language()}`);
    return answer.terms.map((term) => ({ value: term.value, label: term.label, ...(term.labels ? { labels: term.labels } : {}) }));
  } catch {
    return CURATED;
  }
};
