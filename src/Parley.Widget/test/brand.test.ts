import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { ask, pageCode, pageFunction, pageLogin, pageToken, whoOf, type CodeRequest } from '../src/brand';

const request: CodeRequest = {
  state: 's', nonce: 'n', codeChallenge: 'c', codeChallengeMethod: 'S256', authorizationUrl: null, redirectUri: 'https://brand.example/page',
};

describe('the brand page functions', () => {
  beforeEach(() => {
    vi.useFakeTimers();
    (globalThis as Record<string, unknown>).window = globalThis;
  });

  afterEach(() => {
    vi.useRealTimers();
    for (const name of ['auth', 'getAuthenticationToken', 'getAuthenticationCode']) {
      delete (globalThis as Record<string, unknown>)[name];
    }
  });

  it('finds a function by dotted name and nothing else', () => {
    (globalThis as Record<string, unknown>).auth = { getAuthenticationToken: () => undefined, notAFunction: 1 };
    expect(pageFunction('auth.getAuthenticationToken')).toBeTypeOf('function');
    expect(pageFunction('auth.notAFunction')).toBeNull();
    expect(pageFunction('auth.missing.deeper')).toBeNull();
    expect(pageFunction(undefined)).toBeNull();
  });

  it('treats a function that never calls back as "not logged in" after the timeout', async () => {
    const answer = ask<string>(() => undefined, 10_000);
    vi.advanceTimersByTime(10_000);
    expect(await answer).toBeNull();
  });

  it('treats a function that throws as "not logged in", and takes only the first answer', async () => {
    expect(await ask<string>(() => { throw new Error('boom'); })).toBeNull();
    expect(await ask<string>((cb) => { cb('first'); cb('second'); })).toBe('first');
  });

  it('the implicit flow takes a non-empty string token only', async () => {
    (globalThis as Record<string, unknown>).getAuthenticationToken = (cb: (t: unknown) => void) => cb('eyJ.x.y');
    expect(await pageToken('getAuthenticationToken')).toBe('eyJ.x.y');
    (globalThis as Record<string, unknown>).getAuthenticationToken = (cb: (t: unknown) => void) => cb('');
    expect(await pageToken('getAuthenticationToken')).toBeNull();
    (globalThis as Record<string, unknown>).getAuthenticationToken = (cb: (t: unknown) => void) => cb({ token: 'x' });
    expect(await pageToken('getAuthenticationToken')).toBeNull();
    expect(await pageToken('missing')).toBeNull();
  });

  it('the code flow passes the login request and accepts a code or a code with its redirect URI', async () => {
    let seen: CodeRequest | null = null;
    (globalThis as Record<string, unknown>).getAuthenticationCode = (cb: (c: unknown) => void, r: CodeRequest) => { seen = r; cb('abc'); };
    expect(await pageCode('getAuthenticationCode', request)).toEqual({ code: 'abc', redirectUri: request.redirectUri });
    expect(seen).toEqual(request);
    (globalThis as Record<string, unknown>).getAuthenticationCode = (cb: (c: unknown) => void) => cb({ code: 'def', redirectUri: 'https://brand.example/cb' });
    expect(await pageCode('getAuthenticationCode', request)).toEqual({ code: 'def', redirectUri: 'https://brand.example/cb' });
    (globalThis as Record<string, unknown>).getAuthenticationCode = (cb: (c: unknown) => void) => cb(null);
    expect(await pageCode('getAuthenticationCode', request)).toBeNull();
  });

  it('an identity function decides whether the page is logged in, and as whom; without one, the JS function does', async () => {
    expect(await pageLogin([(cb: (i: unknown) => void) => cb({ iss: 'https://idp', sub: 'C-1' })], 'getAuthenticationToken')).toEqual({ state: 'in', who: 'https://idp C-1' });
    expect(await pageLogin([(cb: (i: unknown) => void) => cb({ sub: 'C-1' })], 'getAuthenticationToken')).toEqual({ state: 'in', who: null });
    expect(await pageLogin([(cb: (i: unknown) => void) => cb(null)], 'getAuthenticationToken')).toEqual({ state: 'out' });
    expect(await pageLogin([], 'getAuthenticationToken')).toEqual({ state: 'public' });
    (globalThis as Record<string, unknown>).getAuthenticationToken = () => undefined;
    expect(await pageLogin([], 'getAuthenticationToken')).toEqual({ state: 'in', who: null });
    expect(await pageLogin([(cb: (i: unknown) => void) => cb(null)], 'getAuthenticationToken')).toEqual({ state: 'out' });
  });

  it('reads iss and sub of a page token without trusting it, and nothing from garbage', () => {
    const part = (o: object) => btoa(JSON.stringify(o)).replace(/=+$/, '').replace(/\+/g, '-').replace(/\//g, '_');
    expect(whoOf(`${part({ alg: 'RS256' })}.${part({ iss: 'https://bank.example', sub: 'C-1815', name: 'Ådå' })}.sig`)).toBe('https://bank.example C-1815');
    expect(whoOf(`${part({ alg: 'RS256' })}.${part({ sub: 'C-1815' })}.sig`)).toBeNull();
    expect(whoOf('not-a-token')).toBeNull();
  });
});
