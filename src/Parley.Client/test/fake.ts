import type { SocketLike } from '../src/connection';
import type { ClientFrame, Message, ServerFrame } from '../src/frames';

/** A WebSocket the test drives: `open()` as the server would answer, `push` frames, `drop` the connection. */
export class FakeSocket implements SocketLike {
  readyState = 0;
  sent: ClientFrame[] = [];
  onopen: ((event: unknown) => void) | null = null;
  onmessage: ((event: { data: unknown }) => void) | null = null;
  onclose: ((event: { code: number; reason: string }) => void) | null = null;
  onerror: ((event: unknown) => void) | null = null;
  send(data: string) { this.sent.push(JSON.parse(data)); }
  close() { this.drop(1000, ''); }
  open(role: 'consumer' | 'agent' = 'agent') {
    this.readyState = 1;
    this.onopen?.({});
    this.push({ type: 'ready', role, participantId: 'p1', tenantId: 't1' });
  }
  push(frame: ServerFrame) { this.onmessage?.({ data: JSON.stringify(frame) }); }
  drop(code = 1006, reason = '') { this.readyState = 3; this.onclose?.({ code, reason }); }
  ofType<T extends ClientFrame['type']>(type: T) { return this.sent.filter((f): f is Extract<ClientFrame, { type: T }> => f.type === type); }
}

export function sockets() {
  const all: FakeSocket[] = [];
  return { all, create: () => { const s = new FakeSocket(); all.push(s); return s; }, last: () => all[all.length - 1] };
}

export const msg = (seq: number, extra: Partial<Message> = {}): Message => ({
  conversationId: 'conv', seq, kind: 'text', senderRole: 'consumer', senderId: 'u', clientMessageId: null,
  text: `m${seq}`, sentAt: new Date(1_800_000_000_000 + seq * 1000).toISOString(), ...extra,
});
