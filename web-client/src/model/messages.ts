// The 3D subject page's messages in the app's four languages (merged into the catalogues by
// i18n/*.ts; every language has exactly the English keys: the type checker says which are
// missing). Keys start with `model.`.

export const modelEn = {} satisfies Record<string, string>;
export const modelFr: Record<keyof typeof modelEn, string> = {};
export const modelDe: Record<keyof typeof modelEn, string> = {};
export const modelIt: Record<keyof typeof modelEn, string> = {};
