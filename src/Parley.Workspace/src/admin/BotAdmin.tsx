import { useEffect, useState } from 'react';
import { del, put } from '../api';
import { Outcome, useResource, useSave } from './common';
import type { DeploymentRecord } from './DeploymentsAdmin';

interface BotCase {
  name: string;
  keywords: string[];
  answer: string | null;
  requiresAuthentication: boolean;
  handOver: boolean;
  queue: string | null;
  /** Acceptable acr values, space-separated: a weaker login steps up for this case. */
  acr?: string | null;
  /** The oldest login (seconds since the visitor authenticated) this case accepts. */
  maxLoginAgeSeconds?: number | null;
}

interface Bot {
  greeting: string | null;
  cases: BotCase[];
}

/** A deployment's bot: the greeting and the cases it answers — and which of them need a logged-in customer. */
export function BotAdmin() {
  const deployments = useResource<DeploymentRecord[]>('/admin/deployments');
  const [deploymentId, setDeploymentId] = useState<string>('');
  useEffect(() => {
    if (!deploymentId && deployments.data?.length) {
      setDeploymentId(deployments.data[0].deploymentId);
    }
  }, [deployments.data, deploymentId]);

  return (
    <section aria-labelledby="bot-title">
      <h1 id="bot-title">Bot</h1>
      {deployments.error && <p className="error" role="alert">{deployments.error}</p>}
      <label>Deployment
        <select value={deploymentId} onChange={(e) => setDeploymentId(e.target.value)}>
          {deployments.data?.map((d) => <option key={d.deploymentId} value={d.deploymentId}>{d.name}</option>)}
        </select>
      </label>
      {deploymentId && <BotEditor key={deploymentId} deploymentId={deploymentId} />}
    </section>
  );
}

function BotEditor({ deploymentId }: { deploymentId: string }) {
  const { data, error, reload } = useResource<Bot>(`/admin/deployments/${deploymentId}/bot`);
  const [bot, setBot] = useState<Bot | null>(null);
  const [run, outcome] = useSave();
  useEffect(() => { if (data) setBot(structuredClone(data)); }, [data]);
  if (!bot) {
    return error ? <p className="error" role="alert">{error}</p> : <p aria-busy="true">Loading…</p>;
  }
  const setCase = (i: number, change: Partial<BotCase>) => setBot({ ...bot, cases: bot.cases.map((c, j) => j === i ? { ...c, ...change } : c) });

  return (
    <form onSubmit={async (e) => { e.preventDefault(); if (await run(() => put(`/admin/deployments/${deploymentId}/bot`, bot))) reload(); }}>
      <label>Greeting<input value={bot.greeting ?? ''} onChange={(e) => setBot({ ...bot, greeting: e.target.value || null })} placeholder="Hi! How can I help?" /></label>
      <table className="table" aria-label="Bot cases">
        <thead><tr><th scope="col">Case</th><th scope="col">Keywords</th><th scope="col">Answer</th><th scope="col">Requires login</th><th scope="col"><abbr title="Authentication context class: the login level this case asks for (acr values, space-separated)">Login level</abbr></th><th scope="col">Max login age (min)</th><th scope="col">Hand over</th><th scope="col"><span className="visually-hidden">Remove</span></th></tr></thead>
        <tbody>
          {bot.cases.map((c, i) => (
            <tr key={i}>
              <td><input aria-label="Case name" required value={c.name} onChange={(e) => setCase(i, { name: e.target.value })} /></td>
              <td><input aria-label={`Keywords of ${c.name}`} value={c.keywords.join(', ')} onChange={(e) => setCase(i, { keywords: e.target.value.split(',').map((k) => k.trim()).filter(Boolean) })} /></td>
              <td><input aria-label={`Answer of ${c.name}`} value={c.answer ?? ''} onChange={(e) => setCase(i, { answer: e.target.value || null })} /></td>
              <td><input type="checkbox" aria-label={`${c.name} requires login`} checked={c.requiresAuthentication} onChange={(e) => setCase(i, { requiresAuthentication: e.target.checked })} /></td>
              <td><input aria-label={`Login level (acr) of ${c.name}`} value={c.acr ?? ''} placeholder="any" onChange={(e) => setCase(i, { acr: e.target.value.trim() ? e.target.value : null })} /></td>
              <td><input aria-label={`Max login age of ${c.name}, in minutes`} type="number" min="0" max="43200" inputMode="numeric" placeholder="any" className="narrow"
                value={c.maxLoginAgeSeconds == null ? '' : Math.round(c.maxLoginAgeSeconds / 60)}
                onChange={(e) => setCase(i, { maxLoginAgeSeconds: e.target.value === '' ? null : Math.round(Number(e.target.value) * 60) })} /></td>
              <td><input type="checkbox" aria-label={`${c.name} hands over to an agent`} checked={c.handOver} onChange={(e) => setCase(i, { handOver: e.target.checked })} /></td>
              <td><button type="button" className="danger small" onClick={() => setBot({ ...bot, cases: bot.cases.filter((_, j) => j !== i) })}>Remove</button></td>
            </tr>
          ))}
        </tbody>
      </table>
      <div className="row">
        <button type="button" className="secondary small" onClick={() => setBot({ ...bot, cases: [...bot.cases, { name: '', keywords: [], answer: null, requiresAuthentication: false, handOver: false, queue: null }] })}>Add case</button>
        <button type="button" className="danger small" onClick={async () => { if (await run(() => del(`/admin/deployments/${deploymentId}/bot`), 'Bot removed.')) reload(); }}>Remove the bot</button>
        <button type="submit">Save bot</button>
      </div>
      <Outcome {...outcome} />
    </form>
  );
}
