/**
 * The functions a brand's page provides (docs/widget.md): who is logged in on this page, a JWT for
 * the implicit flow, an authorization code for the code flow. Each gets 10 seconds; a function
 * that throws, times out or calls back with null means "not logged in".
 */

export type Callback<T> = (value: T | null | undefined) => void;

/** What an identity function reports about the page's logged-in visitor (LivePerson's shape). */
export interface PageIdentity {
  iss?: string;
  sub?: string;
  acr?: string;
}

/** What a code function may call back with: the code, or the code and the redirect URI it was issued for. */
export type CodeResult = string | { code: string; redirectUri?: string };

export interface CodeRequest {
  state: string;
  nonce: string;
  codeChallenge: string;
  codeChallengeMethod: string;
  authorizationUrl: string | null;
  redirectUri: string;
}

export const BrandTimeoutMs = 10_000;

/** A function on the page by dotted name (e.g. `auth.getAuthenticationToken`), or null. */
export function pageFunction(path: string | undefined): ((...args: unknown[]) => unknown) | null {
  if (!path) {
    return null;
  }
  let value: unknown = window;
  for (const part of path.split('.')) {
    if (value === null || (typeof value !== 'object' && typeof value !== 'function')) {
      return null;
    }
    value = (value as Record<string, unknown>)[part];
  }
  return typeof value === 'function' ? (value as (...args: unknown[]) => unknown) : null;
}

/** Calls a callback-style brand function; its answer, or null after the timeout or an exception. */
export function ask<T>(invoke: (callback: Callback<T>) => void, timeoutMs = BrandTimeoutMs): Promise<T | null> {
  return new Promise((resolve) => {
    let done = false;
    const finish = (value: T | null | undefined) => {
      if (!done) {
        done = true;
        clearTimeout(timer);
        resolve(value ?? null);
      }
    };
    const timer = setTimeout(() => finish(null), timeoutMs);
    try {
      invoke(finish);
    } catch {
      finish(null);
    }
  });
}

/**
 * What the page says about its visitor: `in` (logged in; `who` is `iss sub` when the identity
 * function gives them), `out` (an identity function answered that nobody is logged in), or
 * `public` (no identity function and no login function: a page that says nothing).
 */
export type PageLogin = { state: 'in'; who: string | null } | { state: 'out' } | { state: 'public' };

/**
 * Whether this page is a logged-in page: the first identity function registered in
 * `Parley.identities` decides; without one, a page that defines the deployment's JS function is.
 */
export async function pageLogin(
  identities: unknown[],
  jsClientFunction: string | undefined,
  timeoutMs = BrandTimeoutMs,
): Promise<PageLogin> {
  const identity = identities.find((f): f is (cb: Callback<PageIdentity>) => void => typeof f === 'function');
  if (identity) {
    const who = await ask<PageIdentity>((cb) => identity(cb), timeoutMs);
    if (who === null || typeof who !== 'object') {
      return { state: 'out' };
    }
    return { state: 'in', who: who.iss && who.sub ? `${who.iss} ${who.sub}` : null };
  }
  return pageFunction(jsClientFunction) !== null ? { state: 'in', who: null } : { state: 'public' };
}

/**
 * `iss sub` of a JWT the page handed over, read without checking it (Parley checks it): only to
 * tell whether the page's visitor is the one the device's stored login belongs to.
 */
export function whoOf(jwt: string): string | null {
  try {
    const payload = jwt.split('.')[1].replace(/-/g, '+').replace(/_/g, '/');
    const claims = JSON.parse(atob(payload.padEnd(payload.length + ((4 - (payload.length % 4)) % 4), '='))) as { iss?: unknown; sub?: unknown };
    return typeof claims.iss === 'string' && typeof claims.sub === 'string' ? `${claims.iss} ${claims.sub}` : null;
  } catch {
    return null;
  }
}

/** The implicit flow: the page's `getAuthenticationToken(callback)`. */
export async function pageToken(name: string, timeoutMs = BrandTimeoutMs): Promise<string | null> {
  const fn = pageFunction(name);
  if (!fn) {
    return null;
  }
  const token = await ask<string>((cb) => fn(cb), timeoutMs);
  return typeof token === 'string' && token.length > 0 ? token : null;
}

/** The code flow: the page's function gets the login request and calls back with a code. */
export async function pageCode(name: string, request: CodeRequest, timeoutMs = BrandTimeoutMs): Promise<{ code: string; redirectUri: string } | null> {
  const fn = pageFunction(name);
  if (!fn) {
    return null;
  }
  const result = await ask<CodeResult>((cb) => fn(cb, request), timeoutMs);
  if (typeof result === 'string' && result.length > 0) {
    return { code: result, redirectUri: request.redirectUri };
  }
  if (result && typeof result === 'object' && typeof result.code === 'string' && result.code.length > 0) {
    return { code: result.code, redirectUri: result.redirectUri ?? request.redirectUri };
  }
  return null;
}
