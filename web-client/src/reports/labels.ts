// What people read for the report vocabularies' values: the app's own label in the UI
// language (messages `report.v.<vocabulary>.<value>`), else the server's English label,
// else the value. The damage terms come with their labels in the four languages (the
// curated list in the generated schema, the workspace's own from its vocabulary API).

import { DAMAGE_TERMS, REPORT_VOCABULARIES } from '../generated/schema';
import { en } from '../i18n/en';
import { language, t, type Key } from '../i18n';

export type Vocabulary = keyof typeof REPORT_VOCABULARIES;

export interface DamageTerm {
  value: string;
  label: string;
  labels?: Record<string, string>;
}

export const valuesOf = (vocabulary: Vocabulary): string[] => REPORT_VOCABULARIES[vocabulary].map((term) => term.value);

export const messageKey = (vocabulary: Vocabulary, value: string): string => `report.v.${vocabulary}.${value}`;

export const label = (vocabulary: Vocabulary, value: string): string => {
  const key = messageKey(vocabulary, value);
  if (key in en) return t(key as Key);
  return (REPORT_VOCABULARIES[vocabulary] as readonly { value: string; label: string }[]).find((term) => term.value === value)?.label ?? value;
};

/** The curated damage list, until the workspace's (which adds its own terms) arrives. */
export const CURATED: DamageTerm[] = DAMAGE_TERMS.map((term) => ({ value: term.value, label: term.label, labels: { ...term.labels } }));

export const termLabel = (terms: DamageTerm[], value: string): string => {
  const term = terms.find((x) => x.value === value);
  if (!term) return value;
  return term.labels?.[language()] ?? term.label;
};
