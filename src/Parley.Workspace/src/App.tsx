import { useEffect, useState } from 'react';
import { api, ApiError, get, onSignedOut, post } from './api';
import type { AgentProfile } from './model';
import { go, useRoute } from './route';
import { Workspace } from './Workspace';
import { Search } from './Search';
import { Admin } from './admin/Admin';

type Session = { state: 'loading' } | { state: 'signed-out'; notice?: string } | { state: 'signed-in'; agent: AgentProfile };

export function App() {
  const [session, setSession] = useState<Session>({ state: 'loading' });
  const route = useRoute();

  useEffect(() => {
    get<{ agent: AgentProfile | null }>('/agent/session')
      .then(({ agent }) => setSession(agent ? { state: 'signed-in', agent } : { state: 'signed-out' }))
      .catch((e) => setSession({ state: 'signed-out', notice: e instanceof ApiError ? e.message : undefined }));
    return onSignedOut(() => setSession({ state: 'signed-out', notice: 'Your session has ended. Please sign in again.' }));
  }, []);

  if (session.state === 'loading') {
    return <main className="center" aria-busy="true"><p>Loading…</p></main>;
  }
  if (session.state === 'signed-out') {
    return <Login notice={session.notice} onSignedIn={(agent) => setSession({ state: 'signed-in', agent })} />;
  }

  const agent = session.agent;
  const section = route[0] ?? 'workspace';
  const signOut = async () => {
    await post('/agent/logout').catch(() => undefined);
    setSession({ state: 'signed-out' });
  };

  return (
    <div className="shell">
      <header className="topbar">
        <span className="brand" aria-label="Parley">Parley</span>
        <nav aria-label="Main">
          <a href="#/" aria-current={section === 'workspace' || section === 'conversations' ? 'page' : undefined}>Workspace</a>
          <a href="#/search" aria-current={section === 'search' ? 'page' : undefined}>All conversations</a>
          {agent.role === 'admin' && <a href="#/admin/settings" aria-current={section === 'admin' ? 'page' : undefined}>Admin</a>}
        </nav>
        <span className="who">{agent.displayName} <span className="muted">({agent.role})</span></span>
        <button type="button" className="secondary" onClick={signOut}>Log out</button>
      </header>
      {section === 'search' ? <Search />
        : section === 'admin' && agent.role === 'admin' ? <Admin tab={route[1] ?? 'settings'} />
        : <Workspace agent={agent} selected={section === 'conversations' ? route[1] : undefined} onSignedOut={() => setSession({ state: 'signed-out', notice: 'Your session has ended. Please sign in again.' })} />}
    </div>
  );
}

function Login({ notice, onSignedIn }: { notice?: string; onSignedIn: (agent: AgentProfile) => void }) {
  const [email, setEmail] = useState('');
  const [password, setPassword] = useState('');
  const [error, setError] = useState<string | null>(null);
  const [busy, setBusy] = useState(false);

  const submit = async (event: React.FormEvent) => {
    event.preventDefault();
    setBusy(true);
    setError(null);
    try {
      const response = await api<{ agent: AgentProfile }>('POST', '/agent/login', { email, password });
      if (!location.hash) {
        go();
      }
      onSignedIn(response.agent);
    } catch (e) {
      setError(e instanceof ApiError ? e.message : 'Sign-in failed.');
    } finally {
      setBusy(false);
    }
  };

  return (
    <main className="center">
      <form className="card login" onSubmit={submit} aria-labelledby="login-title">
        <h1 id="login-title">Sign in to Parley</h1>
        {notice && <p className="notice" role="status">{notice}</p>}
        <label>Email<input type="email" autoComplete="username" required value={email} onChange={(e) => setEmail(e.target.value)} autoFocus /></label>
        <label>Password<input type="password" autoComplete="current-password" required value={password} onChange={(e) => setPassword(e.target.value)} /></label>
        {error && <p className="error" role="alert">{error}</p>}
        <button type="submit" disabled={busy}>{busy ? 'Signing in…' : 'Sign in'}</button>
      </form>
    </main>
  );
}
