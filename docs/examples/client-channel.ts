// A brand's own channel (a kiosk, a mobile web view, a React Native app) on Parley's TypeScript
// client, without the widget. src/Parley.Client/test/example.test.ts runs this file against a
// scripted server (docs/client.md says what that checks).
import { Connection, ConversationSync, type Message, type SocketLike } from '../../src/Parley.Client/src';

export interface ChannelOptions {
  /** Parley's origin, e.g. https://chat.brand.example */
  base: string;
  deploymentId: string;
  /** Where the device keeps its visitor token (localStorage, AsyncStorage, a file). */
  saved: { get(): string | null; set(token: string): void };
  show(message: Message): void;
  /** Another runtime's WebSocket (React Native's, the `ws` package); the default is the global one. */
  createSocket?: (url: string) => SocketLike;
  fetch?: typeof fetch;
}

export async function startChannel(options: ChannelOptions) {
  const http = options.fetch ?? fetch;
  // 1. A visitor session (docs/api.md): anonymous here; send `jwt` for a logged-in customer.
  const response = await http(`${options.base}/api/v1/sessions`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ deploymentId: options.deploymentId, visitorToken: options.saved.get() }),
  });
  const session = (await response.json()) as { visitorToken: string; showConversationId?: string | null };
  options.saved.set(session.visitorToken);

  // 2. The consumer socket: authenticates with the token, reconnects with backoff.
  const url = `${options.base.replace(/^http/, 'ws')}/ws/consumer?deploymentId=${encodeURIComponent(options.deploymentId)}`;
  const connection = new Connection({ url, token: () => session.visitorToken, createSocket: options.createSocket });
  // 3. Messages: each once, in order, resumed after every reconnect; sends kept until acknowledged.
  const sync = new ConversationSync(connection, { message: options.show });
  connection.start();
  await new Promise<void>((resolve) => connection.on('ready', () => resolve()));

  // 4. The visitor's open conversation on this deployment, or a new one.
  const { conversation } = await connection.request({ type: 'conversation.start', attributes: { channel: 'kiosk' } });
  sync.watch(conversation.id);
  return {
    conversationId: conversation.id,
    say: (text: string) => sync.send(conversation.id, text),
    /** Shown as "sending" until the server has stored them. */
    pending: () => sync.timelines.get(conversation.id)!.pending,
    close: () => connection.stop(),
  };
}
