import { describe, expect, it } from 'vitest';
import { Backoff } from '../src/backoff';

describe('Backoff', () => {
  it('doubles up to the ceiling and starts again after a reset', () => {
    const backoff = new Backoff(500, 4000, () => 1);
    expect([backoff.next(), backoff.next(), backoff.next(), backoff.next(), backoff.next()]).toEqual([500, 1000, 2000, 4000, 4000]);
    backoff.reset();
    expect(backoff.next()).toBe(500);
  });

  it('jitters within half to all of the current delay', () => {
    const low = new Backoff(1000, 8000, () => 0);
    expect(low.next()).toBe(500);
    for (let i = 0; i < 100; i++) {
      const delay = new Backoff(1000, 8000).next();
      expect(delay).toBeGreaterThanOrEqual(500);
      expect(delay).toBeLessThanOrEqual(1000);
    }
  });

  it('never overflows after many failures', () => {
    const backoff = new Backoff(500, 15_000, () => 1);
    for (let i = 0; i < 1000; i++) {
      backoff.next();
    }
    expect(backoff.next()).toBe(15_000);
  });
});
