import { useEffect, useState } from 'react';
import { put } from '../api';
import { Outcome, useResource, useSave } from './common';

interface Routing {
  queues: { name: string; displayName: string | null }[];
  defaultQueue: string;
  rules: { name: string; condition: string; queue: string; priority: number }[];
  autoAssign: boolean;
  disconnectGraceSeconds: number;
}

interface QueueFigures {
  name: string;
  displayName: string | null;
  waiting: number;
  longestWaitSeconds: number | null;
  respondedLast24Hours: number;
  averageFirstResponseSeconds: number | null;
  agents: number;
  agentsConnected: number;
}

/** Queues, the rules that route conversations into them, and how each queue is doing. */
export function RoutingAdmin() {
  const { data, error, reload } = useResource<Routing>('/admin/routing');
  const figures = useResource<QueueFigures[]>('/admin/queues');
  const [routing, setRouting] = useState<Routing | null>(null);
  const [run, outcome] = useSave();
  useEffect(() => { if (data) setRouting(structuredClone(data)); }, [data]);

  if (!routing) {
    return error ? <p className="error" role="alert">{error}</p> : <p aria-busy="true">Loading…</p>;
  }
  const update = (change: Partial<Routing>) => setRouting({ ...routing, ...change });
  const save = async (event: React.FormEvent) => {
    event.preventDefault();
    if (await run(() => put('/admin/routing', routing))) {
      reload();
      figures.reload();
    }
  };

  return (
    <form onSubmit={save} aria-labelledby="routing-title">
      <h1 id="routing-title">Queues &amp; routing</h1>
      {figures.data && (
        <table className="table" aria-label="Queue figures">
          <thead><tr><th scope="col">Queue</th><th scope="col">Waiting</th><th scope="col">Longest wait</th><th scope="col">Answered (24 h)</th><th scope="col">Avg. first response</th><th scope="col">Agents online</th></tr></thead>
          <tbody>
            {figures.data.map((q) => (
              <tr key={q.name}>
                <td>{q.displayName ?? q.name}</td><td>{q.waiting}</td><td>{q.longestWaitSeconds == null ? '—' : `${Math.round(q.longestWaitSeconds)} s`}</td>
                <td>{q.respondedLast24Hours}</td><td>{q.averageFirstResponseSeconds == null ? '—' : `${q.averageFirstResponseSeconds} s`}</td><td>{q.agentsConnected} / {q.agents}</td>
              </tr>
            ))}
          </tbody>
        </table>
      )}
      <fieldset className="card">
        <legend>Queues</legend>
        {routing.queues.map((queue, i) => (
          <div className="row" key={i}>
            <label>Name<input required value={queue.name} onChange={(e) => update({ queues: routing.queues.map((q, j) => j === i ? { ...q, name: e.target.value } : q) })} /></label>
            <label>Display name<input value={queue.displayName ?? ''} onChange={(e) => update({ queues: routing.queues.map((q, j) => j === i ? { ...q, displayName: e.target.value || null } : q) })} /></label>
            <button type="button" className="danger small" aria-label={`Remove queue ${queue.name}`} onClick={() => update({ queues: routing.queues.filter((_, j) => j !== i) })}>Remove</button>
          </div>
        ))}
        <button type="button" className="secondary small" onClick={() => update({ queues: [...routing.queues, { name: '', displayName: null }] })}>Add queue</button>
        <label>Queue when no rule matches
          <select value={routing.defaultQueue} onChange={(e) => update({ defaultQueue: e.target.value })}>
            {routing.queues.map((q) => <option key={q.name} value={q.name}>{q.displayName ?? q.name}</option>)}
          </select>
        </label>
      </fieldset>
      <fieldset className="card">
        <legend>Rules (first match wins; see docs/routing.md for conditions)</legend>
        {routing.rules.map((rule, i) => (
          <div className="rule" key={i}>
            <label>Name<input required value={rule.name} onChange={(e) => update({ rules: routing.rules.map((r, j) => j === i ? { ...r, name: e.target.value } : r) })} /></label>
            <label className="grow">Condition<input className="mono" required value={rule.condition} onChange={(e) => update({ rules: routing.rules.map((r, j) => j === i ? { ...r, condition: e.target.value } : r) })} placeholder='authenticated and context.tier == "gold"' /></label>
            <label>Queue
              <select value={rule.queue} onChange={(e) => update({ rules: routing.rules.map((r, j) => j === i ? { ...r, queue: e.target.value } : r) })}>
                {routing.queues.map((q) => <option key={q.name} value={q.name}>{q.displayName ?? q.name}</option>)}
              </select>
            </label>
            <label>Priority<input type="number" value={rule.priority} onChange={(e) => update({ rules: routing.rules.map((r, j) => j === i ? { ...r, priority: Number(e.target.value) } : r) })} /></label>
            <button type="button" className="danger small" aria-label={`Remove rule ${rule.name}`} onClick={() => update({ rules: routing.rules.filter((_, j) => j !== i) })}>Remove</button>
          </div>
        ))}
        <button type="button" className="secondary small" onClick={() => update({ rules: [...routing.rules, { name: '', condition: 'authenticated', queue: routing.defaultQueue, priority: 0 }] })}>Add rule</button>
      </fieldset>
      <fieldset className="card">
        <legend>Assignment</legend>
        <label className="inline"><input type="checkbox" checked={routing.autoAssign} onChange={(e) => update({ autoAssign: e.target.checked })} /> Assign waiting conversations to the least busy connected agent</label>
        <label>Seconds a disconnected agent keeps their conversations<input type="number" min={0} max={3600} value={routing.disconnectGraceSeconds} onChange={(e) => update({ disconnectGraceSeconds: Number(e.target.value) })} /></label>
      </fieldset>
      <Outcome {...outcome} />
      <button type="submit">Save routing</button>
    </form>
  );
}
