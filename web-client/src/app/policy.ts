// The page's Content-Security-Policy names the image servers of the user's workspaces as
// they were when the page was loaded (server/webapp/policy.py), and the app then moves
// between pages without loading one. A manifest imported since may name a new server,
// which this page's policy still refuses. So the app notes what the policy refused, and
// the next move to another page loads that page afresh (with a policy that names it);
// a subject page whose own image was refused loads itself again, once.

const blocked = new Set<string>();
let stale = false;

// A page loads itself again for one image server at most once in this long: if its
// policy still refuses it then (it is in no manifest of the user's workspaces, or beyond
// the policy's limit of servers), it says so instead of loading again and again.
const RELOAD_AGAIN_AFTER_MS = 10 * 60_000;
const RELOADED = 'sinopia.policy-reloaded';

export const originOf = (url: string): string => {
  try {
    return new URL(url, location.href).origin;
  } catch {
    return '';
  }
};

export const watchPolicy = (): void => {
  document.addEventListener('securitypolicyviolation', (event) => {
    if (!['img-src', 'connect-src'].includes(event.effectiveDirective)) return;
    const origin = originOf(event.blockedURI);
    if (!origin || origin === location.origin) return;
    blocked.add(origin);
    stale = true;
  });
};

export const blockedByPolicy = (origin: string): boolean => blocked.has(origin);

/** True when this page's policy refused a server it should name: the next page must be
 * loaded, not drawn in place. */
export const policyIsStale = (): boolean => stale;

/** Load this page again for a policy that names `origin`; false if that was just done
 * (the policy still refuses it). */
export const reloadFor = (origin: string): boolean => {
  let done: Record<string, number> = {};
  try {
    done = JSON.parse(sessionStorage.getItem(RELOADED) ?? '{}') as Record<string, number>;
  } catch {
    done = {};
  }
  const key = `${location.pathname}|${origin}`;
  if (Date.now() - (done[key] ?? 0) < RELOAD_AGAIN_AFTER_MS) return false;
  done[key] = Date.now();
  try {
    sessionStorage.setItem(RELOADED, JSON.stringify(done));
  } catch {
    return false; // no way to remember it: do not risk loading forever
  }
  location.reload();
  return true;
};
