import { useState } from 'react';
import { errorText, post } from './api';
import { Identity } from './Identity';
import type { Conversation } from './model';

/** All conversations of the brand: find by customer, text, page attribute and date; open any transcript. */
export function Search() {
  const [form, setForm] = useState({ consumer: '', text: '', attribute: '', from: '', to: '', status: 'all' });
  const [results, setResults] = useState<Conversation[] | null>(null);
  const [error, setError] = useState<string | null>(null);
  const [busy, setBusy] = useState(false);

  const search = async (event: React.FormEvent) => {
    event.preventDefault();
    setBusy(true);
    setError(null);
    const filters: Record<string, string> = {};
    for (const [key, value] of Object.entries(form)) {
      if (value.trim()) {
        // Dates are the agent's local days.
        filters[key] = key === 'from' || key === 'to' ? localDay(value, key === 'to') : value.trim();
      }
    }
    try {
      // A POST body, not a query string: customers' names and emails stay out of access logs.
      setResults(await post<Conversation[]>('/agent/conversations/search', filters));
    } catch (e) {
      setError(errorText(e));
    } finally {
      setBusy(false);
    }
  };

  const field = (key: keyof typeof form) => ({
    value: form[key],
    onChange: (e: React.ChangeEvent<HTMLInputElement | HTMLSelectElement>) => setForm({ ...form, [key]: e.target.value }),
  });

  return (
    <main className="page" aria-labelledby="search-title">
      <h1 id="search-title">All conversations</h1>
      <form className="card search-form" onSubmit={search}>
        <label>Customer<input type="search" placeholder="name, email, customer id" {...field('consumer')} /></label>
        <label>Text<input type="search" placeholder="words in a message" {...field('text')} /></label>
        <label>Page attribute<input type="search" placeholder="cart=149.00" {...field('attribute')} /></label>
        <label>From<input type="date" {...field('from')} /></label>
        <label>To<input type="date" {...field('to')} /></label>
        <label>Status
          <select {...field('status')}>
            <option value="all">All</option>
            <option value="open">Open</option>
            <option value="closed">Closed</option>
          </select>
        </label>
        <button type="submit" disabled={busy}>Search</button>
      </form>
      {error && <p className="error" role="alert">{error}</p>}
      {results && (
        results.length === 0 ? <p role="status">No conversation matches.</p> : (
          <table className="table" aria-label="Results">
            <thead><tr><th scope="col">Customer</th><th scope="col">Started</th><th scope="col">Queue</th><th scope="col">Status</th><th scope="col">Page attributes</th></tr></thead>
            <tbody>
              {results.map((c) => (
                <tr key={c.id}>
                  <td><a href={`#/conversations/${c.id}`}><Identity authenticated={c.authenticated} /> {c.consumerId.slice(0, 8)}</a></td>
                  <td>{new Date(c.createdAt).toLocaleString()}</td>
                  <td>{c.queue ?? '—'}</td>
                  <td>{c.status}</td>
                  <td className="small-text">{Object.entries(c.engagementAttributes).map(([k, v]) => `${k}=${v}`).join(', ')}</td>
                </tr>
              ))}
            </tbody>
          </table>
        )
      )}
    </main>
  );
}

/** The start (or, for "to", the end) of a local calendar day, as an ISO time. */
function localDay(value: string, end: boolean): string {
  const [y, m, d] = value.split('-').map(Number);
  return new Date(y, m - 1, d + (end ? 1 : 0)).toISOString();
}
