import { useState } from 'react';
import { del, errorText, post, put } from '../api';
import { Outcome, useResource, useSave } from './common';

export interface SettingsRecord {
  id: string;
  name: string;
  flow: 'implicit' | 'code';
  issuer: string;
  clientId: string;
  keysUrl: string | null;
  discoveryUrl: string | null;
  keysDocument: string | null;
  authorizationEndpoint: string | null;
  tokenEndpoint: string | null;
  jsClientFunction: string;
  allowedAlgorithms: string[];
  clockSkewSeconds: number;
  sessionTtlMinutes: number | null;
  claimMapping: Record<string, string>;
  hasClientSecret: boolean;
  hasHmacSecret: boolean;
  hasDecryptionKey: boolean;
  hasSecurityKey: boolean;
  backChannelLogoutUri: string;
  loginLinkLifetimeMinutes: number | null;
  decryptionKeys: { kid: string; createdAt: string; retiresAt: string | null; current: boolean }[];
  jwksUrl: string | null;
  previousHmacSecretUntil: string | null;
  previousSecurityKeyUntil: string | null;
}

const algorithms = ['RS256', 'RS384', 'RS512', 'PS256', 'PS384', 'PS512', 'ES256', 'ES384', 'ES512', 'HS256', 'HS384', 'HS512'];
const secrets = [
  ['clientSecret', 'hasClientSecret', 'Client secret (code flow)'],
  ['hmacSecret', 'hasHmacSecret', 'HMAC secret (HS* tokens)'],
  ['decryptionKeyPem', 'hasDecryptionKey', "Parley's decryption key (PEM, for encrypted tokens)"],
  ['securityKey', 'hasSecurityKey', 'Security key (custom login pages)'],
] as const;

/** Authentication settings: how a brand proves who its visitors are, and the token tester. */
export function SettingsAdmin() {
  const { data, error, reload } = useResource<SettingsRecord[]>('/admin/authentication-settings');
  const [editing, setEditing] = useState<SettingsRecord | 'new' | null>(null);
  const [testing, setTesting] = useState<SettingsRecord | null>(null);
  const [run, outcome] = useSave();

  const remove = (record: SettingsRecord) => {
    if (confirm(`Delete “${record.name}”?`)) {
      run(() => del(`/admin/authentication-settings/${record.id}`), 'Deleted.').then(reload);
    }
  };

  return (
    <section aria-labelledby="settings-title">
      <div className="row">
        <h1 id="settings-title">Authentication settings</h1>
        <button type="button" onClick={() => { setEditing('new'); setTesting(null); }}>New settings</button>
      </div>
      <p className="muted">How the brand's identity provider proves who a visitor is. Secrets are write-only: Parley never shows them again.</p>
      {error && <p className="error" role="alert">{error}</p>}
      <Outcome {...outcome} />
      {data && (data.length === 0 ? <p>No settings yet.</p> : (
        <table className="table" aria-label="Authentication settings">
          <thead><tr><th scope="col">Name</th><th scope="col">Flow</th><th scope="col">Issuer</th><th scope="col">Client id</th><th scope="col"><span className="visually-hidden">Actions</span></th></tr></thead>
          <tbody>
            {data.map((record) => (
              <tr key={record.id}>
                <td>{record.name}</td><td>{record.flow}</td><td className="small-text">{record.issuer}</td><td>{record.clientId}</td>
                <td className="actions">
                  <button type="button" className="secondary small" onClick={() => { setTesting(record); setEditing(null); }}>Test a token</button>
                  <button type="button" className="secondary small" onClick={() => { setEditing(record); setTesting(null); }}>Edit</button>
                  <button type="button" className="danger small" onClick={() => remove(record)}>Delete</button>
                </td>
              </tr>
            ))}
          </tbody>
        </table>
      ))}
      {editing && <SettingsEditor key={editing === 'new' ? 'new' : editing.id} record={editing === 'new' ? null : editing} onDone={(saved) => { setEditing(null); reload(); if (saved) setTesting(saved); }} />}
      {testing && <TokenTester key={testing.id} record={testing} />}
    </section>
  );
}

function SettingsEditor({ record, onDone }: { record: SettingsRecord | null; onDone: (saved: SettingsRecord | null) => void }) {
  const keySource = record?.discoveryUrl ? 'discoveryUrl' : record?.keysDocument ? 'keysDocument' : 'keysUrl';
  const [form, setForm] = useState({
    name: record?.name ?? '',
    flow: record?.flow ?? 'implicit',
    issuer: record?.issuer ?? '',
    clientId: record?.clientId ?? '',
    keySource,
    keyValue: record?.discoveryUrl ?? record?.keysDocument ?? record?.keysUrl ?? '',
    authorizationEndpoint: record?.authorizationEndpoint ?? '',
    tokenEndpoint: record?.tokenEndpoint ?? '',
    jsClientFunction: record?.jsClientFunction ?? '',
    allowedAlgorithms: record?.allowedAlgorithms ?? ['RS256', 'RS384', 'RS512', 'PS256', 'PS384', 'PS512', 'ES256', 'ES384', 'ES512'],
    clockSkewSeconds: String(record?.clockSkewSeconds ?? 60),
    sessionTtlMinutes: record?.sessionTtlMinutes == null ? '' : String(record.sessionTtlMinutes),
    loginLinkLifetimeMinutes: record?.loginLinkLifetimeMinutes == null ? '' : String(record.loginLinkLifetimeMinutes),
    claimMapping: Object.entries(record?.claimMapping ?? {}).map(([k, v]) => `${k} = ${v}`).join('\n'),
  });
  const [secretValues, setSecretValues] = useState<Record<string, string>>({});
  const [removed, setRemoved] = useState<Record<string, boolean>>({});
  const [error, setError] = useState<string | null>(null);
  const set = (key: keyof typeof form) => (e: React.ChangeEvent<HTMLInputElement | HTMLSelectElement | HTMLTextAreaElement>) => setForm({ ...form, [key]: e.target.value });

  const save = async (event: React.FormEvent) => {
    event.preventDefault();
    setError(null);
    const mapping: Record<string, string> = {};
    for (const line of form.claimMapping.split('\n')) {
      const [claim, ...label] = line.split('=');
      if (claim.trim()) {
        mapping[claim.trim()] = label.join('=').trim();
      }
    }
    const body: Record<string, unknown> = {
      name: form.name,
      flow: form.flow,
      issuer: form.issuer,
      clientId: form.clientId,
      keysUrl: form.keySource === 'keysUrl' ? form.keyValue || null : null,
      discoveryUrl: form.keySource === 'discoveryUrl' ? form.keyValue || null : null,
      keysDocument: form.keySource === 'keysDocument' ? form.keyValue || null : null,
      authorizationEndpoint: form.authorizationEndpoint || null,
      tokenEndpoint: form.tokenEndpoint || null,
      jsClientFunction: form.jsClientFunction || null,
      allowedAlgorithms: form.allowedAlgorithms,
      clockSkewSeconds: Number(form.clockSkewSeconds),
      sessionTtlMinutes: form.sessionTtlMinutes ? Number(form.sessionTtlMinutes) : null,
      loginLinkLifetimeMinutes: form.loginLinkLifetimeMinutes ? Number(form.loginLinkLifetimeMinutes) : null,
      claimMapping: mapping,
    };
    for (const [field] of secrets) {
      // Write-only: null keeps the stored secret, "" removes it, a value replaces it.
      body[field] = removed[field] ? '' : secretValues[field] ? secretValues[field] : null;
    }
    try {
      const saved = record
        ? await put<SettingsRecord>(`/admin/authentication-settings/${record.id}`, body)
        : await post<SettingsRecord>('/admin/authentication-settings', body);
      onDone(saved);
    } catch (e) {
      setError(errorText(e));
    }
  };

  return (
    <form className="card editor" onSubmit={save} aria-labelledby="editor-title">
      <h2 id="editor-title">{record ? `Edit “${record.name}”` : 'New authentication settings'}</h2>
      <div className="grid">
        <label>Name<input required value={form.name} onChange={set('name')} /></label>
        <label>Flow
          <select value={form.flow} onChange={set('flow')}>
            <option value="implicit">Implicit (the page hands Parley a signed JWT)</option>
            <option value="code">Code (Parley exchanges an authorization code)</option>
          </select>
        </label>
        <label>Issuer (exact <code>iss</code>)<input required value={form.issuer} onChange={set('issuer')} placeholder="https://login.brand.example" /></label>
        <label>Client id (the <code>aud</code> Parley requires)<input required value={form.clientId} onChange={set('clientId')} /></label>
        <label>Keys from
          <select value={form.keySource} onChange={set('keySource')}>
            <option value="keysUrl">Keys URL (PEM, JWK, JWKS or kid list)</option>
            <option value="discoveryUrl">OpenID Connect discovery URL</option>
            <option value="keysDocument">Keys pasted here</option>
          </select>
        </label>
        {form.keySource === 'keysDocument'
          ? <label className="wide">Keys<textarea rows={5} value={form.keyValue} onChange={set('keyValue')} placeholder="-----BEGIN PUBLIC KEY-----" /></label>
          : <label>{form.keySource === 'keysUrl' ? 'Keys URL' : 'Discovery URL'}<input value={form.keyValue} onChange={set('keyValue')} placeholder="https://" /></label>}
        <label>Authorization endpoint<input value={form.authorizationEndpoint} onChange={set('authorizationEndpoint')} /></label>
        <label>Token endpoint<input value={form.tokenEndpoint} onChange={set('tokenEndpoint')} /></label>
        <label>Page's JS function<input value={form.jsClientFunction} onChange={set('jsClientFunction')} placeholder="getAuthenticationToken" /></label>
        <label>Clock skew (seconds)<input type="number" min={0} max={600} value={form.clockSkewSeconds} onChange={set('clockSkewSeconds')} /></label>
        <label>Session length (minutes; empty: until the token expires)<input type="number" min={1} value={form.sessionTtlMinutes} onChange={set('sessionTtlMinutes')} /></label>
        <label>Login link lifetime (minutes; empty: the server's default)<input type="number" min={1} max={60} value={form.loginLinkLifetimeMinutes} onChange={set('loginLinkLifetimeMinutes')} /></label>
        <label className="wide">Claim labels for agents (one <code>claim = Label</code> per line)<textarea rows={3} value={form.claimMapping} onChange={set('claimMapping')} /></label>
        {record && (
          <label className="wide">Back-channel logout URI (register it at the identity provider: a logout there signs the customer out here too)
            <input readOnly value={record.backChannelLogoutUri} onFocus={(e) => e.target.select()} />
          </label>
        )}
      </div>
      <fieldset>
        <legend>Allowed algorithms</legend>
        {algorithms.map((alg) => (
          <label key={alg} className="inline">
            <input type="checkbox" checked={form.allowedAlgorithms.includes(alg)}
              onChange={(e) => setForm({ ...form, allowedAlgorithms: e.target.checked ? [...form.allowedAlgorithms, alg] : form.allowedAlgorithms.filter((a) => a !== alg) })} />
            {alg}
          </label>
        ))}
      </fieldset>
      <fieldset>
        <legend>Secrets (write-only)</legend>
        {secrets.map(([field, has, label]) => (
          <div key={field} className="secret">
            <label>{label}
              {field === 'decryptionKeyPem'
                ? <textarea rows={2} value={secretValues[field] ?? ''} disabled={removed[field]} onChange={(e) => setSecretValues({ ...secretValues, [field]: e.target.value })} placeholder={record?.[has] ? 'Set — leave empty to keep' : 'Not set'} />
                : <input type="password" autoComplete="off" value={secretValues[field] ?? ''} disabled={removed[field]} onChange={(e) => setSecretValues({ ...secretValues, [field]: e.target.value })} placeholder={record?.[has] ? 'Set — leave empty to keep' : 'Not set'} />}
            </label>
            {record?.[has] && <label className="inline"><input type="checkbox" checked={!!removed[field]} onChange={(e) => setRemoved({ ...removed, [field]: e.target.checked })} /> Remove</label>}
          </div>
        ))}
      </fieldset>
      {record && <GeneratedKeys record={record} />}
      {error && <p className="error" role="alert">{error}</p>}
      <div className="row end">
        <button type="button" className="secondary" onClick={() => onDone(null)}>Cancel</button>
        <button type="submit">Save</button>
      </div>
    </form>
  );
}

const when = (iso: string) => new Date(iso).toLocaleString();

/**
 * Keys and secrets Parley generates for a record, and their rotation: the key pair brands encrypt
 * tokens to (published as a JWKS), the custom login page's security key and the HMAC secret. The
 * value before a rotation keeps working for the overlap the admin picks.
 */
function GeneratedKeys({ record }: { record: SettingsRecord }) {
  const base = `/admin/authentication-settings/${record.id}`;
  const { data, reload } = useResource<SettingsRecord>(base);
  const current = data ?? record;
  const [overlap, setOverlap] = useState('');
  const [shown, setShown] = useState<{ what: string; secret: string } | null>(null);
  const [run, outcome] = useSave();
  const body = () => (overlap === '' ? {} : { overlapHours: Number(overlap) });

  const rotateSecret = (kind: 'security-key' | 'hmac-secret', what: string) =>
    run(async () => {
      const rotated = await post<{ secret: string }>(`${base}/${kind}`, body());
      setShown({ what, secret: rotated.secret });
    }, `A new ${what} is set.`).then(reload);

  return (
    <fieldset className="generated">
      <legend>Keys Parley generates</legend>
      <label>When rotating, the previous value keeps working for
        <select value={overlap} onChange={(e) => setOverlap(e.target.value)}>
          <option value="">the default: 7 days for a key pair, 24 hours for a secret</option>
          <option value="0">no time: stop it now (it leaked)</option>
          <option value="1">1 hour</option>
          <option value="24">24 hours</option>
          <option value="168">7 days</option>
          <option value="720">30 days</option>
        </select>
      </label>
      <h3>Encryption key (brands encrypt tokens to it)</h3>
      {current.decryptionKeys.length === 0
        ? <p className="muted">None yet. Generate one, then give the brand the JWKS URL; it encrypts tokens with RSA-OAEP-256 to the first key.</p>
        : (
          <>
            <label className="wide">JWKS URL (public)<input readOnly value={current.jwksUrl ?? ''} onFocus={(e) => e.target.select()} /></label>
            <ul className="keys" aria-label="Encryption keys">
              {current.decryptionKeys.map((k) => (
                <li key={k.kid}>
                  <code>{k.kid.slice(0, 12)}…</code> created {when(k.createdAt)} · {k.current ? <strong>current</strong> : `decrypts until ${when(k.retiresAt!)}`}
                  <button type="button" className="danger small" onClick={() => confirm('Stop this key now? Tokens encrypted to it are refused from now on.')
                    && run(() => del(`${base}/decryption-keys/${encodeURIComponent(k.kid)}`), 'Key stopped.').then(reload)}>Stop</button>
                </li>
              ))}
            </ul>
          </>
        )}
      <button type="button" className="secondary small" onClick={() => run(() => post(`${base}/decryption-keys`, body()), 'A new key pair is published.').then(reload)}>
        {current.decryptionKeys.length === 0 ? 'Generate a key pair' : 'Rotate the key pair'}
      </button>
      <h3>Security key and HMAC secret</h3>
      <div className="row">
        <button type="button" className="secondary small" onClick={() => rotateSecret('security-key', 'security key')}>Generate a security key</button>
        <button type="button" className="secondary small" onClick={() => rotateSecret('hmac-secret', 'HMAC secret')}>Generate an HMAC secret</button>
      </div>
      {current.previousSecurityKeyUntil && <p className="muted">The previous security key works until {when(current.previousSecurityKeyUntil)}.</p>}
      {current.previousHmacSecretUntil && <p className="muted">The previous HMAC secret works until {when(current.previousHmacSecretUntil)}.</p>}
      {shown && (
        <label className="wide">New {shown.what} — copy it now: it is not shown again
          <input readOnly className="mono" value={shown.secret} onFocus={(e) => e.target.select()} />
        </label>
      )}
      <Outcome {...outcome} />
    </fieldset>
  );
}

interface TestResult {
  valid: boolean;
  error: string | null;
  errorDescription: string | null;
  failedCheck: string | null;
  checks: { name: string; ok: boolean; detail: string }[];
  header: Record<string, unknown> | null;
  claims: Record<string, unknown> | null;
}

/** Paste a token, see every check Parley makes, passed or failed, with the reason. */
function TokenTester({ record }: { record: SettingsRecord }) {
  const [token, setToken] = useState('');
  const [result, setResult] = useState<TestResult | null>(null);
  const [error, setError] = useState<string | null>(null);

  const test = async (event: React.FormEvent) => {
    event.preventDefault();
    setError(null);
    setResult(null);
    try {
      setResult(await post<TestResult>(`/admin/authentication-settings/${record.id}/test`, { token: token.trim() }));
    } catch (e) {
      setError(errorText(e));
    }
  };

  return (
    <section className="card tester" aria-labelledby="tester-title">
      <h2 id="tester-title">Token tester — {record.name}</h2>
      <form onSubmit={test}>
        <label>Token (a JWT or JWE from the brand's identity provider)
          <textarea rows={4} className="mono" value={token} onChange={(e) => setToken(e.target.value)} spellCheck={false} />
        </label>
        <button type="submit" disabled={!token.trim()}>Test</button>
      </form>
      {error && <p className="error" role="alert">{error}</p>}
      {result && (
        <div className="result" aria-live="polite">
          <p className={result.valid ? 'verdict ok' : 'verdict error'} data-testid="verdict">
            {result.valid ? '✓ Valid — Parley would accept this token.' : `✗ Refused: ${result.error} — ${result.errorDescription}`}
          </p>
          <ol className="checks" aria-label="Checks">
            {result.checks.map((check) => (
              <li key={check.name} className={check.ok ? 'pass' : 'fail'}>
                <span aria-label={check.ok ? 'passed' : 'failed'}>{check.ok ? '✓' : '✗'}</span> <strong>{check.name}</strong> <span>{check.detail}</span>
              </li>
            ))}
          </ol>
          {result.header && <details><summary>Header</summary><pre>{JSON.stringify(result.header, null, 2)}</pre></details>}
          {result.claims && <details open><summary>Claims</summary><pre>{JSON.stringify(result.claims, null, 2)}</pre></details>}
        </div>
      )}
    </section>
  );
}
