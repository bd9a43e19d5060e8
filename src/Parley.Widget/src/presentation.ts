import type { Message } from './protocol';

/** What the messenger shows, worked out from its state (the View only draws it). */

export type ShownConnection = 'connecting' | 'connected' | 'reconnecting';

/** The visitor's login as the status line shows it: none, logged in, or a login that ended (not renewed yet). */
export type ShownLogin = 'none' | 'in' | 'ended';

export function connectionText(state: ShownConnection, login: ShownLogin, retryInMs: number | undefined): string {
  switch (state) {
    case 'connected': return login === 'in' ? 'Connected · logged in' : login === 'ended' ? 'Connected · login expired' : 'Connected';
    case 'connecting': return 'Connecting…';
    default: return `Reconnecting${retryInMs ? ` in ${Math.ceil(retryInMs / 1000)} s` : ''}…`;
  }
}

export function conversationState(blocked: boolean, status: 'open' | 'closed' | null, conversationId: string | null): 'none' | 'open' | 'closed' | 'blocked' {
  return blocked ? 'blocked' : status === 'closed' ? 'closed' : conversationId ? 'open' : 'none';
}

/** Whether the last login the bot asked for is done (its "Log in" button is then disabled). */
export function loginDone(messages: readonly Message[], authenticated: boolean): boolean {
  const lastRequest = messages.filter((m) => m.text === 'authentication.requested').pop();
  return authenticated && (!lastRequest || messages.some((m) => m.text === 'authentication.upgraded' && m.seq > lastRequest.seq));
}

/** Text messages from the other side (agent, bot, system) after `seq`: the unread count. */
export function fromOthersAfter(messages: readonly Message[], seq: number): number {
  return messages.filter((m) => m.seq > seq && m.senderRole !== 'consumer' && m.kind === 'text').length;
}
