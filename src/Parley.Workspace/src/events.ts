import type { Message } from './model';

/** What a system event in a conversation means, in words for agents. */
export function describeEvent(message: Message): string {
  const data = message.data ?? {};
  switch (message.text) {
    case 'authentication.upgraded':
      return 'The customer logged in during the chat: the conversation is now authenticated.';
    case 'authentication.expired':
      return "The customer's authentication expired.";
    case 'authentication.logged_out':
      return data.scope === 'everywhere'
        ? "The customer logged out at the brand's site: all their devices were signed out."
        : 'The customer logged out on one of their devices.';
    case 'authentication.requested':
      return `The bot asked the customer to log in${data.case ? ` (${String(data.case)})` : ''}.`;
    case 'conversation.handover':
      return `The bot handed the conversation over${data.case ? ` (${String(data.case)})` : ''}.`;
    case 'conversation.closed':
      return 'The conversation was closed.';
    case 'conversation.resumed':
      return 'The conversation was resumed.';
    case 'conversation.cleared':
      return 'The customer cleared their history and left.';
    case 'conversation.merged':
      return data.into
        ? "The customer logged in during the chat and already had an open conversation: this one closed and continues there."
        : `The customer logged in on another device during a chat: ${Number(data.messages ?? 0)} message(s) of it were added above.`;
    default:
      return message.text;
  }
}
