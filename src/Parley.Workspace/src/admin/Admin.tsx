import { SettingsAdmin } from './SettingsAdmin';
import { DeploymentsAdmin } from './DeploymentsAdmin';
import { RoutingAdmin } from './RoutingAdmin';
import { BotAdmin } from './BotAdmin';
import { AgentsAdmin } from './AgentsAdmin';
import { AuditAdmin } from './AuditAdmin';

const tabs = [
  ['settings', 'Authentication'],
  ['deployments', 'Deployments'],
  ['routing', 'Queues & routing'],
  ['bot', 'Bot'],
  ['agents', 'Agents'],
  ['audit', 'Audit log'],
] as const;

/** The admin console: how the brand's visitors log in, where the messenger runs, who answers. */
export function Admin({ tab }: { tab: string }) {
  return (
    <div className="admin">
      <nav className="tabs" aria-label="Admin">
        {tabs.map(([id, label]) => <a key={id} href={`#/admin/${id}`} aria-current={tab === id ? 'page' : undefined}>{label}</a>)}
      </nav>
      <main className="page">
        {tab === 'settings' && <SettingsAdmin />}
        {tab === 'deployments' && <DeploymentsAdmin />}
        {tab === 'routing' && <RoutingAdmin />}
        {tab === 'bot' && <BotAdmin />}
        {tab === 'agents' && <AgentsAdmin />}
        {tab === 'audit' && <AuditAdmin />}
      </main>
    </div>
  );
}
