// JSON over fetch, same origin, with the session cookie. Writes carry the CSRF token from
// /api/me; errors are application/problem+json and become ApiError with what the server
// said (detail, and the list of problems for bad input).

export interface Problem {
  path?: string;
  message: string;
}

export class ApiError extends Error {
  constructor(
    readonly status: number,
    readonly detail: string,
    readonly problems: Problem[] = [],
  ) {
    super(detail || `HTTP ${status}`);
  }
}

let csrf: string | null = null;
export const setCsrf = (token: string | null): void => {
  csrf = token;
};

const problemOf = async (response: Response): Promise<ApiError> => {
  let detail = '';
  let problems: Problem[] = [];
  try {
    const body = (await response.json()) as { detail?: unknown; title?: unknown; problems?: unknown };
    detail = typeof body.detail === 'string' ? body.detail : typeof body.title === 'string' ? body.title : '';
    if (Array.isArray(body.problems))
      problems = body.problems
        .filter((p): p is Record<string, unknown> => Boolean(p) && typeof p === 'object')
        .map((p) => ({
          message: String(p.message ?? p.detail ?? ''),
          ...(typeof p.path === 'string' ? { path: p.path } : {}),
        }));
  } catch {
    // not JSON: the status says enough
  }
  return new ApiError(response.status, detail, problems);
};

export interface RequestOptions {
  body?: unknown;
  signal?: AbortSignal;
  /** Upload progress is not available from fetch; callers that need it use `upload`. */
}

export const request = async <T>(method: string, path: string, options: RequestOptions = {}): Promise<T> => {
  const headers: Record<string, string> = { Accept: 'application/json' };
  if (options.body !== undefined) headers['Content-Type'] = 'application/json';
  if (method !== 'GET' && method !== 'HEAD' && csrf) headers['X-CSRF-Token'] = csrf;
  let response: Response;
  try {
    response = await fetch(path, {
      method,
      headers,
      credentials: 'same-origin',
      ...(options.body !== undefined ? { body: JSON.stringify(options.body) } : {}),
      ...(options.signal ? { signal: options.signal } : {}),
    });
  } catch (error) {
    if ((error as Error).name === 'AbortError') throw error;
    throw new ApiError(0, '');
  }
  if (!response.ok) throw await problemOf(response);
  if (response.status === 204) return undefined as T;
  return (await response.json()) as T;
};

export const get = <T>(path: string, signal?: AbortSignal) => request<T>('GET', path, signal ? { signal } : {});
export const post = <T>(path: string, body?: unknown) => request<T>('POST', path, { body: body ?? {} });
export const put = <T>(path: string, body: unknown) => request<T>('PUT', path, { body });
export const del = <T>(path: string) => request<T>('DELETE', path);

/** POST with upload progress (a manifest file can be large): XMLHttpRequest, since fetch
 * reports none. `onProgress` gets 0..1 while sending. */
// A JSON text, or a form with files (the browser writes its multipart boundary).
export const upload = <T>(path: string, body: string | FormData, onProgress: (fraction: number) => void): Promise<T> =>
  new Promise((resolve, reject) => {
    const xhr = new XMLHttpRequest();
    xhr.open('POST', path);
    if (typeof body === 'string') xhr.setRequestHeader('Content-Type', 'application/json');
    xhr.setRequestHeader('Accept', 'application/json');
    if (csrf) xhr.setRequestHeader('X-CSRF-Token', csrf);
    xhr.upload.onprogress = (e) => e.lengthComputable && onProgress(e.loaded / e.total);
    xhr.onerror = () => reject(new ApiError(0, ''));
    xhr.onload = () => {
      const response = new Response(xhr.responseText, { status: xhr.status });
      if (xhr.status >= 200 && xhr.status < 300) resolve(JSON.parse(xhr.responseText || 'null') as T);
      else void problemOf(response).then(reject);
    };
    xhr.send(body);
  });

export const enc = encodeURIComponent;
