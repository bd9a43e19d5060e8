import { useState } from 'react';
import { post, put } from '../api';
import type { AgentProfile } from '../model';
import { Outcome, useResource, useSave } from './common';

/** The brand's agents: who they are, what they serve and how much they hold; new accounts. */
export function AgentsAdmin() {
  const { data, error, reload } = useResource<AgentProfile[]>('/admin/agents');
  const [form, setForm] = useState({ email: '', displayName: '', password: '', role: 'agent', capacity: '5' });
  const [run, outcome] = useSave();

  const create = async (event: React.FormEvent) => {
    event.preventDefault();
    if (await run(() => post('/admin/agents', { ...form, capacity: Number(form.capacity), queues: null }), 'Agent created.')) {
      setForm({ email: '', displayName: '', password: '', role: 'agent', capacity: '5' });
      reload();
    }
  };
  const set = (key: keyof typeof form) => (e: React.ChangeEvent<HTMLInputElement | HTMLSelectElement>) => setForm({ ...form, [key]: e.target.value });

  return (
    <section aria-labelledby="agents-title">
      <h1 id="agents-title">Agents</h1>
      {error && <p className="error" role="alert">{error}</p>}
      {data && (
        <table className="table" aria-label="Agents">
          <thead><tr><th scope="col">Name</th><th scope="col">Email</th><th scope="col">Role</th><th scope="col">Capacity</th><th scope="col">Queues (comma-separated; empty: all)</th><th scope="col"><span className="visually-hidden">Save</span></th></tr></thead>
          <tbody>{data.map((agent) => <AgentRow key={agent.id} agent={agent} onSaved={reload} />)}</tbody>
        </table>
      )}
      <form className="card" onSubmit={create} aria-labelledby="new-agent-title">
        <h2 id="new-agent-title">New agent</h2>
        <div className="grid">
          <label>Email<input type="email" required value={form.email} onChange={set('email')} /></label>
          <label>Display name<input required value={form.displayName} onChange={set('displayName')} /></label>
          <label>Initial password (10+ characters)<input type="password" autoComplete="new-password" minLength={10} required value={form.password} onChange={set('password')} /></label>
          <label>Role<select value={form.role} onChange={set('role')}><option value="agent">Agent</option><option value="admin">Admin</option></select></label>
          <label>Capacity<input type="number" min={0} max={100} value={form.capacity} onChange={set('capacity')} /></label>
        </div>
        <button type="submit">Create agent</button>
      </form>
      <Outcome {...outcome} />
    </section>
  );
}

function AgentRow({ agent, onSaved }: { agent: AgentProfile; onSaved: () => void }) {
  const [capacity, setCapacity] = useState(String(agent.capacity));
  const [queues, setQueues] = useState(agent.queues?.join(', ') ?? '');
  const [run, outcome] = useSave();
  const save = async () => {
    const list = queues.split(',').map((q) => q.trim()).filter(Boolean);
    if (await run(() => put(`/admin/agents/${agent.id}/routing`, { capacity: Number(capacity), queues: list.length ? list : null }))) {
      onSaved();
    }
  };
  return (
    <tr>
      <td>{agent.displayName}</td>
      <td>{agent.email}</td>
      <td>{agent.role}</td>
      <td><input type="number" min={0} max={100} aria-label={`Capacity of ${agent.displayName}`} value={capacity} onChange={(e) => setCapacity(e.target.value)} /></td>
      <td><input aria-label={`Queues of ${agent.displayName}`} value={queues} onChange={(e) => setQueues(e.target.value)} /></td>
      <td><button type="button" className="secondary small" onClick={save}>Save</button><Outcome {...outcome} /></td>
    </tr>
  );
}
