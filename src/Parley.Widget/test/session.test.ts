import { describe, expect, it, vi } from 'vitest';
import type { Connection } from '../../Parley.Client/src/connection';
import type { ClientFrame } from '../../Parley.Client/src/frames';
import type { Api } from '../src/api';
import type { MessengerConfig, Notice, Session } from '../src/protocol';
import { VisitorSession } from '../src/session';
import { memoryDevice } from './memory';

const future = new Date(Date.now() + 3_600_000).toISOString();
const session = (token: string, extra: Partial<Session> = {}): Session => ({
  visitorToken: token, consumerId: 'u', authenticated: false, expiresAt: future, conversations: [], showConversationId: null, ...extra,
});
const config = (authentication: MessengerConfig['authentication'] = null): MessengerConfig => ({
  deploymentId: 'd', title: 'Demo', windowMode: 'embedded', authentication, windowUrl: '',
});

function harness(answer: (body: Parameters<Api['session']>[0]) => Session, options: { authentication?: MessengerConfig['authentication'] } = {}) {
  const loggedOut: string[] = [];
  const events: unknown[] = [];
  const device = memoryDevice();
  const notice: Notice = { text: null, blocked: false };
  const shown: (string | null)[] = [];
  const sent: ClientFrame[] = [];
  const calls: string[] = [];
  const asked: Parameters<Api['session']>[0][] = [];
  const api = {
    session: async (body: Parameters<Api['session']>[0]) => { asked.push(body); return answer(body); },
    startLogin: async () => { throw new Error('not in these tests'); },
    logout: async (token: string) => { loggedOut.push(token); },
    loginLink: async (token: string, conversationId: string) => {
      calls.push(`link ${token} ${conversationId}`);
      return { url: 'https://bank.example/authorize?state=s9', expiresAt: future };
    },
    authenticate: async (token: string, conversationId: string, body: Parameters<Api['authenticate']>[2]) => {
      calls.push(`authenticate ${token} ${conversationId} ${body.state} ${body.code}`);
      return { visitorToken: 'pat_renewed', consumerId: 'u', expiresAt: future, conversation: { id: conversationId } as never };
    },
  };
  const connection = { restart: () => calls.push('restart'), start: () => calls.push('start'), send: (f: ClientFrame) => sent.push(f) } as unknown as Connection;
  const visitor = new VisitorSession(api, device, config(options.authentication ?? null), false, notice, connection,
    { show: (id) => shown.push(id), refresh: () => undefined, authentication: (event) => events.push(event) });
  return { visitor, device, notice, shown, sent, calls, asked, loggedOut, events };
}

/** A page token for `sub` (unsigned: the widget only reads iss and sub to compare; Parley checks tokens). */
const pageJwt = (sub: string) => `e30.${btoa(JSON.stringify({ iss: 'https://bank.example', sub })).replace(/=+$/, '')}.sig`;

describe('VisitorSession on a shared device', () => {
  (globalThis as Record<string, unknown>).window = globalThis; // the page's functions are looked up on window
  const implicit = { authentication: { flow: 'implicit' as const, jsClientFunction: 'getToken' } };
  const answer = (body: Parameters<Api['session']>[0]) => body.jwt
    ? session(`pat_${body.jwt.length}`, { authenticated: true, consumerId: body.jwt === pageJwt('C-1906') ? 'grace' : 'ada', showConversationId: body.jwt === pageJwt('C-1906') ? 'grace-conv' : 'ada-conv' })
    : body.visitorToken?.startsWith('pat_')
      ? session(body.visitorToken, { authenticated: true, consumerId: 'ada', showConversationId: 'ada-conv' })
      : session('pvt_anon');

  it('someone else logged in on this browser: the stored login is ended before anything of it shows', async () => {
    const { visitor, device, shown, loggedOut } = harness(answer, implicit);
    device.set('auth', { token: 'pat_ada', expiresAt: future, consumerId: 'ada', who: 'https://bank.example C-1815' });
    (globalThis as Record<string, unknown>).getToken = (cb: (t: string) => void) => cb(pageJwt('C-1906'));
    visitor.page = { state: 'in', who: null };

    await visitor.start();

    expect(loggedOut).toEqual(['pat_ada']);
    expect(shown).toEqual(['grace-conv']);
    expect(device.get<{ consumerId: string; who: string }>('auth')).toMatchObject({ consumerId: 'grace', who: 'https://bank.example C-1906' });
  });

  it('tells the brand\'s page: signed in, sign-in failed, expired, logged out', async () => {
    const { visitor, events } = harness(answer, implicit);
    (globalThis as Record<string, unknown>).getToken = (cb: (t: string) => void) => cb(pageJwt('C-1815'));
    visitor.page = { state: 'in', who: null };
    await visitor.start();
    visitor.failed('invalid_grant', 'The login state is unknown.');
    await visitor.expired();
    await visitor.logout();
    expect(events.map((e) => (e as { type: string }).type)).toEqual(['signed-in', 'sign-in-failed', 'expired', 'signed-in', 'logged-out']);
    expect(events[1]).toEqual({ type: 'sign-in-failed', error: 'invalid_grant', description: 'The login state is unknown.' });
  });

  it('a login the widget could not see (mid-chat) is checked by the page\'s proof, and the same customer is not logged out', async () => {
    const { visitor, device, shown, loggedOut, events } = harness(answer, implicit);
    device.set('auth', { token: 'pat_midchat', expiresAt: future, consumerId: 'ada', who: null });
    (globalThis as Record<string, unknown>).getToken = (cb: (t: string) => void) => cb(pageJwt('C-1815'));
    visitor.page = { state: 'in', who: null };

    await visitor.start();

    expect(loggedOut).toEqual([]);
    expect(shown).toEqual(['ada-conv']);
    expect(device.get<{ consumerId: string; who: string }>('auth')).toMatchObject({ consumerId: 'ada', who: 'https://bank.example C-1815' });
    expect(events).toEqual([{ type: 'signed-in', how: 'page' }]);
  });

  it('the same visitor keeps the stored login without a new one', async () => {
    const { visitor, device, shown, loggedOut, asked } = harness(answer, implicit);
    device.set('auth', { token: 'pat_ada', expiresAt: future, consumerId: 'ada', who: 'https://bank.example C-1815' });
    (globalThis as Record<string, unknown>).getToken = (cb: (t: string) => void) => cb(pageJwt('C-1815'));
    visitor.page = { state: 'in', who: null };

    await visitor.start();

    expect(loggedOut).toEqual([]);
    expect(asked[0]).toEqual({ visitorToken: 'pat_ada' });
    expect(shown).toEqual(['ada-conv']);
  });

  it('a page that says nobody is logged in ends the stored login and shows nothing of it, not even a notice', async () => {
    const { visitor, device, shown, notice, loggedOut } = harness(answer, implicit);
    device.set('auth', { token: 'pat_ada', expiresAt: future, consumerId: 'ada', who: 'https://bank.example C-1815' });
    visitor.page = { state: 'out' };

    await visitor.start();

    expect(loggedOut).toEqual(['pat_ada']);
    expect(device.get('auth')).toBeNull();
    expect(shown).toEqual([null]);
    expect(notice.text).toBeNull();
  });

  it('Parley.logout() ends the device\'s login and the page does not log in again', async () => {
    const { visitor, device, shown, loggedOut, calls } = harness(answer, implicit);
    (globalThis as Record<string, unknown>).getToken = (cb: (t: string) => void) => cb(pageJwt('C-1815'));
    visitor.page = { state: 'in', who: null };
    await visitor.start();
    expect(visitor.authenticated).toBe(true);

    await visitor.logout();

    expect(loggedOut).toHaveLength(1);
    expect(device.get('auth')).toBeNull();
    expect(visitor.authenticated).toBe(false);
    expect(shown[shown.length - 1]).toBeNull();
    expect(calls).toContain('restart');
  });
});

describe('VisitorSession', () => {
  it('an anonymous visitor keeps the device\'s token and is shown its conversation', async () => {
    const { visitor, device, shown, asked } = harness((body) => session(body.visitorToken ?? 'pvt_new', { showConversationId: 'conv' }));
    await visitor.start();
    expect(visitor.token).toBe('pvt_new');
    expect(device.get('anon')).toBe('pvt_new');
    expect(shown).toEqual(['conv']);
    await visitor.start();
    expect(asked[asked.length - 1]).toEqual({ visitorToken: 'pvt_new' });
  });

  it('on a public page, a logged-in conversation in progress is not shown, only pointed to', async () => {
    const { visitor, device, notice, shown } = harness((body) => body.visitorToken === 'pat_login'
      ? session('pat_login', { authenticated: true, showConversationId: 'private' })
      : session('pvt_anon'), { authentication: { flow: 'implicit', jsClientFunction: 'getToken' } });
    device.set('auth', { token: 'pat_login', expiresAt: future });
    await visitor.start();
    expect(visitor.authenticated).toBe(false);
    expect(shown).toEqual([null]);
    expect(notice.text).toContain('Continue it on a page where you are logged in');
  });

  it('an expired login on a public page blocks the conversation with a notice and forgets the login', async () => {
    const { visitor, device, notice, calls } = harness(() => session('pvt'));
    device.set('auth', { token: 'pat', expiresAt: future });
    visitor.token = 'pat';
    await visitor.expired();
    expect(notice).toEqual({ blocked: true, text: 'Your login has expired. Continue this conversation on a page where you are logged in.' });
    expect(device.get('auth')).toBeNull();
    expect(calls).toEqual([]);
    // A newer login another tab stored meanwhile is not this one's to forget.
    device.set('auth', { token: 'pat_other_tab', expiresAt: future });
    await visitor.expired();
    expect(device.get<{ token: string }>('auth')?.token).toBe('pat_other_tab');
  });

  it('an expired login where the brand has a login page offers Log in: a fresh link, then the renewal with the ended token', async () => {
    const { visitor, device, notice, calls, shown, events } = harness(() => session('pvt'), { authentication: { flow: 'code', jsClientFunction: 'getCode', loginLinks: true } });
    const opened: string[] = [];
    (globalThis as Record<string, unknown>).open = () => ({ location: { assign: (url: string) => opened.push(url) }, close: () => undefined });
    device.set('auth', { token: 'pat_ended', expiresAt: future });
    visitor.token = 'pat_ended';
    await visitor.expired();
    expect(notice).toEqual({ blocked: true, action: 'log-in', text: 'Your login has expired. Log in again to continue this conversation.' });
    visitor.authenticated = true;
    expect(visitor.shownLogin).toBe('ended');

    await visitor.renew('conv');
    expect(calls).toEqual(['link pat_ended conv']);
    expect(opened).toEqual(['https://bank.example/authorize?state=s9']);

    const sent: string[] = [];
    visitor.received({ type: 'parley.login', state: 's9', code: 'c9' }, 'https://parley.example', 'https://parley.example', () => sent.push('ws'));
    await vi.waitFor(() => expect(calls).toContain('restart'));
    expect(sent).toEqual([]); // a renewal goes over REST with the ended token, not over the socket
    expect(calls).toEqual(['link pat_ended conv', 'authenticate pat_ended conv s9 c9', 'restart']);
    expect([visitor.token, visitor.authenticated, notice.blocked, notice.action, notice.text]).toEqual(['pat_renewed', true, false, null, null]);
    expect(visitor.shownLogin).toBe('in');
    expect(shown).toEqual(['conv']);
    expect(device.get<{ token: string }>('auth')?.token).toBe('pat_renewed');
    expect(events.map((e) => (e as { type: string }).type)).toEqual(['expired', 'signed-in']);
  });

  it('a refused token is forgotten and a new session started, but not more than three times in a row', async () => {
    let n = 0;
    const { visitor, device, notice, calls } = harness((body) => session(body.visitorToken ?? `pvt_${++n}`));
    await visitor.start();
    for (let i = 0; i < 3; i++) {
      await visitor.unauthorized();
    }
    expect(device.get('anon')).toBe('pvt_4');
    expect(calls).toEqual(['start', 'start', 'start']);
    await visitor.unauthorized();
    expect(notice.text).toBe('The chat is not available right now. Please reload the page later.');
    visitor.ready();
    await visitor.unauthorized();
    expect(calls).toHaveLength(4);
  });

  it('a mid-chat login result is sent once, after the conversation is subscribed, and a repeat of its state is ignored', () => {
    const { visitor, sent } = harness(() => session('pvt'));
    const result = { type: 'parley.login', state: 's1', code: 'abc' };
    visitor.received(result, 'https://elsewhere.example', 'https://parley.example', () => undefined);
    expect(visitor.hasPendingLogin).toBe(false);
    visitor.received(result, 'https://parley.example', 'https://parley.example', () => visitor.sendPendingLogin('conv', false));
    expect(sent).toEqual([]);
    visitor.sendPendingLogin('conv', true);
    expect(sent).toEqual([{ type: 'conversation.authenticate', requestId: 'login', conversationId: 'conv', state: 's1', code: 'abc', jwt: undefined, assertion: undefined }]);
    visitor.received(result, 'https://parley.example', 'https://parley.example', () => visitor.sendPendingLogin('conv', true));
    expect(sent).toHaveLength(1);
  });

  it('a login that completed mid-chat is kept for reconnecting', () => {
    const { visitor, device, notice } = harness(() => session('pvt'));
    notice.text = 'Please log in';
    visitor.adopt({ visitorToken: 'pat_new', consumerId: 'u', expiresAt: future });
    expect([visitor.token, visitor.authenticated, notice.text]).toEqual(['pat_new', true, null]);
    expect(device.get('auth')).toEqual({ token: 'pat_new', expiresAt: future, consumerId: 'u', who: null });
  });
});
