import { useCallback, useEffect, useState } from 'react';
import { errorText, get } from '../api';

/** Loads a resource and reloads it on demand; errors are shown, not thrown. */
export function useResource<T>(path: string | null): { data: T | undefined; error: string | null; reload: () => void } {
  const [data, setData] = useState<T>();
  const [error, setError] = useState<string | null>(null);
  const [version, setVersion] = useState(0);
  useEffect(() => {
    if (!path) {
      return;
    }
    let live = true;
    get<T>(path)
      .then((value) => { if (live) { setData(value); setError(null); } })
      .catch((e) => { if (live) setError(errorText(e)); });
    return () => { live = false; };
  }, [path, version]);
  return { data, error, reload: useCallback(() => setVersion((v) => v + 1), []) };
}

/** Runs a save: shows "Saved" or the server's reason. */
export function useSave(): [(action: () => Promise<unknown>, done?: string) => Promise<boolean>, { status: string | null; error: string | null }] {
  const [status, setStatus] = useState<string | null>(null);
  const [error, setError] = useState<string | null>(null);
  const run = useCallback(async (action: () => Promise<unknown>, done = 'Saved.') => {
    setStatus(null);
    setError(null);
    try {
      await action();
      setStatus(done);
      return true;
    } catch (e) {
      setError(errorText(e));
      return false;
    }
  }, []);
  return [run, { status, error }];
}

export function Outcome({ status, error }: { status: string | null; error: string | null }) {
  return (
    <>
      {status && <p className="ok" role="status">{status}</p>}
      {error && <p className="error" role="alert">{error}</p>}
    </>
  );
}
