import { useResource } from './common';

interface AuditEvent {
  id: string;
  at: string;
  kind: string;
  outcome: 'success' | 'refused';
  actorType: string;
  subject: string | null;
  reason: string | null;
  detail: string | null;
}

/** The tenant's audit log: logins (and refusals, with the failed check) and admins' changes. */
export function AuditAdmin() {
  const { data, error } = useResource<{ items: AuditEvent[] }>('/admin/audit?limit=100');
  return (
    <section aria-labelledby="audit-title">
      <h1 id="audit-title">Audit log</h1>
      {error && <p className="error" role="alert">{error}</p>}
      {data && (
        <table className="table" aria-label="Audit events">
          <thead><tr><th scope="col">When</th><th scope="col">What</th><th scope="col">Outcome</th><th scope="col">Who</th><th scope="col">Detail</th></tr></thead>
          <tbody>
            {data.items.map((e) => (
              <tr key={e.id}>
                <td>{new Date(e.at).toLocaleString()}</td><td>{e.kind}</td>
                <td className={e.outcome === 'refused' ? 'error-text' : ''}>{e.outcome}{e.reason ? ` (${e.reason})` : ''}</td>
                <td>{e.actorType}{e.subject ? ` ${e.subject}` : ''}</td><td className="small-text">{e.detail}</td>
              </tr>
            ))}
          </tbody>
        </table>
      )}
    </section>
  );
}
