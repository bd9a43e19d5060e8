import { useState } from 'react';
import { post, put } from '../api';
import { Outcome, useResource, useSave } from './common';
import type { SettingsRecord } from './SettingsAdmin';

export interface DeploymentRecord {
  deploymentId: string;
  name: string;
  allowedOrigins: string[];
  authenticationSettingsId: string | null;
  messenger: { windowMode: 'embedded' | 'window'; title: string | null; authenticatedOnly?: boolean };
  snippet: string;
}

/** Where the messenger runs: allowed origins, the login settings, window mode, and the snippet to paste. */
export function DeploymentsAdmin() {
  const { data, error, reload } = useResource<DeploymentRecord[]>('/admin/deployments');
  const settings = useResource<SettingsRecord[]>('/admin/authentication-settings');
  const [name, setName] = useState('');
  const [run, outcome] = useSave();

  const create = async (event: React.FormEvent) => {
    event.preventDefault();
    if (await run(() => post('/admin/deployments', { name, allowedOrigins: [] }), 'Deployment created.')) {
      setName('');
      reload();
    }
  };

  return (
    <section aria-labelledby="deployments-title">
      <h1 id="deployments-title">Deployments</h1>
      <p className="muted">A deployment is one messenger configuration a brand embeds on its sites.</p>
      {error && <p className="error" role="alert">{error}</p>}
      {data?.map((d) => <Deployment key={d.deploymentId} deployment={d} settings={settings.data ?? []} onSaved={reload} />)}
      <form className="card row" onSubmit={create}>
        <label>New deployment<input required value={name} onChange={(e) => setName(e.target.value)} placeholder="Support site" /></label>
        <button type="submit">Create</button>
      </form>
      <Outcome {...outcome} />
    </section>
  );
}

function Deployment({ deployment, settings, onSaved }: { deployment: DeploymentRecord; settings: SettingsRecord[]; onSaved: () => void }) {
  const [origins, setOrigins] = useState(deployment.allowedOrigins.join('\n'));
  const [settingsId, setSettingsId] = useState(deployment.authenticationSettingsId ?? '');
  const [windowMode, setWindowMode] = useState(deployment.messenger.windowMode);
  const [title, setTitle] = useState(deployment.messenger.title ?? '');
  const [authenticatedOnly, setAuthenticatedOnly] = useState(deployment.messenger.authenticatedOnly ?? false);
  const [copied, setCopied] = useState(false);
  const [run, outcome] = useSave();
  const id = deployment.deploymentId;

  const save = async (event: React.FormEvent) => {
    event.preventDefault();
    const ok = await run(async () => {
      await put(`/admin/deployments/${id}/origins`, { allowedOrigins: origins.split(/\s+/).filter(Boolean) });
      await put(`/admin/deployments/${id}/authentication-settings`, { settingsId: settingsId || null });
      await put(`/admin/deployments/${id}/messenger`, { windowMode, title, authenticatedOnly });
    });
    if (ok) {
      onSaved();
    }
  };

  const copy = async () => {
    try {
      await navigator.clipboard.writeText(deployment.snippet);
      setCopied(true);
    } catch {
      setCopied(false);
    }
  };

  return (
    <form className="card" onSubmit={save} aria-label={`Deployment ${deployment.name}`}>
      <h2>{deployment.name} <span className="muted small-text mono">{id}</span></h2>
      <div className="grid">
        <label>Allowed origins (one per line)
          <textarea rows={3} className="mono" value={origins} onChange={(e) => setOrigins(e.target.value)} placeholder="https://www.brand.example" />
        </label>
        <div>
          <label>Authentication settings
            <select value={settingsId} onChange={(e) => setSettingsId(e.target.value)}>
              <option value="">None (anonymous visitors only)</option>
              {settings.map((s) => <option key={s.id} value={s.id}>{s.name}</option>)}
            </select>
          </label>
          <fieldset>
            <legend>Messenger opens</legend>
            <label className="inline"><input type="radio" name={`mode-${id}`} checked={windowMode === 'embedded'} onChange={() => setWindowMode('embedded')} /> Embedded in the page</label>
            <label className="inline"><input type="radio" name={`mode-${id}`} checked={windowMode === 'window'} onChange={() => setWindowMode('window')} /> In a separate window</label>
          </fieldset>
          <label>Title<input value={title} maxLength={80} onChange={(e) => setTitle(e.target.value)} placeholder={deployment.name} /></label>
          <label className="inline">
            <input type="checkbox" checked={authenticatedOnly} onChange={(e) => setAuthenticatedOnly(e.target.checked)} />
            Logged-in visitors only (the chat shows on pages where the visitor is logged in; needs authentication settings)
          </label>
        </div>
      </div>
      <label>Snippet for the brand's pages
        <textarea readOnly rows={2} className="mono" value={deployment.snippet} onFocus={(e) => e.target.select()} />
      </label>
      <div className="row end">
        <button type="button" className="secondary" onClick={copy}>{copied ? 'Copied' : 'Copy snippet'}</button>
        <button type="submit">Save</button>
      </div>
      <Outcome {...outcome} />
    </form>
  );
}
