/** Parley's REST API (docs/api.md) as the web app calls it: same origin, the agent cookie, JSON. */

export class ApiError extends Error {
  constructor(readonly status: number, readonly code: string, message: string, readonly body: Record<string, unknown> = {}) {
    super(message);
  }
}

/** What to tell the user about a failed call: the server's reason when there is one. */
export function errorText(e: unknown): string {
  return e instanceof Error ? e.message : String(e);
}

type Listener = () => void;
const signedOutListeners = new Set<Listener>();

/** Called when any request finds the session gone (401): the app shows the login again. */
export function onSignedOut(listener: Listener): () => void {
  signedOutListeners.add(listener);
  return () => signedOutListeners.delete(listener);
}

export async function api<T>(method: string, path: string, body?: unknown): Promise<T> {
  let response: Response;
  try {
    response = await fetch(`/api/v1${path}`, {
      method,
      credentials: 'same-origin',
      headers: body === undefined ? {} : { 'content-type': 'application/json' },
      body: body === undefined ? undefined : JSON.stringify(body),
    });
  } catch {
    throw new ApiError(0, 'offline', 'Parley cannot be reached. Check the connection and try again.');
  }
  if (response.status === 204) {
    return undefined as T;
  }
  const text = await response.text();
  const json = text ? JSON.parse(text) : undefined;
  if (!response.ok) {
    const problem = (json ?? {}) as Record<string, unknown>;
    if (response.status === 401 && path !== '/agent/login') {
      signedOutListeners.forEach((listener) => listener());
    }
    const retry = response.headers.get('retry-after');
    throw new ApiError(
      response.status,
      String(problem.code ?? problem.title ?? response.status),
      String(problem.detail ?? (response.status === 503 ? `Parley is temporarily unavailable${retry ? `; try again in ${retry} s` : ''}.` : response.statusText)),
      problem);
  }
  return json as T;
}

export const get = <T>(path: string) => api<T>('GET', path);
export const post = <T>(path: string, body?: unknown) => api<T>('POST', path, body ?? {});
export const put = <T>(path: string, body: unknown) => api<T>('PUT', path, body);
export const del = (path: string) => api<void>('DELETE', path);
