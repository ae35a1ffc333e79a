// The report pages' messages in the app's four languages (merged into the catalogues by
// i18n/*.ts; every language has exactly the English keys: the type checker says which are
// missing). Keys start with `report.`.

export const reportsEn = {} satisfies Record<string, string>;
export const reportsFr: Record<keyof typeof reportsEn, string> = {};
export const reportsDe: Record<keyof typeof reportsEn, string> = {};
export const reportsIt: Record<keyof typeof reportsEn, string> = {};
