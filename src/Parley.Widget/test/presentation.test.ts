import { describe, expect, it } from 'vitest';
import { msg } from '../../Parley.Client/test/fake';
import { connectionText, conversationState, fromOthersAfter, loginDone } from '../src/presentation';

describe('what the messenger shows', () => {
  it('says how it is connected, with the retry delay in whole seconds', () => {
    expect(connectionText('connected', 'none', undefined)).toBe('Connected');
    expect(connectionText('connected', 'in', undefined)).toBe('Connected · logged in');
    expect(connectionText('connected', 'ended', undefined)).toBe('Connected · login expired');
    expect(connectionText('connecting', 'none', undefined)).toBe('Connecting…');
    expect(connectionText('reconnecting', 'none', 1200)).toBe('Reconnecting in 2 s…');
    expect(connectionText('reconnecting', 'none', undefined)).toBe('Reconnecting…');
  });

  it('hides the composer behind a blocking notice or a closed conversation', () => {
    expect(conversationState(true, 'open', 'c')).toBe('blocked');
    expect(conversationState(false, 'closed', 'c')).toBe('closed');
    expect(conversationState(false, 'open', 'c')).toBe('open');
    expect(conversationState(false, null, null)).toBe('none');
  });

  it('disables the bot\'s login button once that login is done', () => {
    const requested = msg(1, { kind: 'event', text: 'authentication.requested', senderRole: 'bot' });
    const upgraded = msg(2, { kind: 'event', text: 'authentication.upgraded', senderRole: 'system' });
    expect(loginDone([requested], true)).toBe(false);
    expect(loginDone([requested, upgraded], true)).toBe(true);
    expect(loginDone([requested, upgraded], false)).toBe(false);
    expect(loginDone([], true)).toBe(true);
  });

  it('counts unread text from the other side only', () => {
    const messages = [msg(1, { senderRole: 'bot' }), msg(2), msg(3, { senderRole: 'system', kind: 'event' }), msg(4, { senderRole: 'agent' }), msg(5, { senderRole: 'agent' })];
    expect(fromOthersAfter(messages, 0)).toBe(3);
    expect(fromOthersAfter(messages, 4)).toBe(1);
  });
});
