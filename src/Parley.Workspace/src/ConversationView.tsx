import { useEffect, useRef, useState } from 'react';
import { errorText, get } from './api';
import { describeEvent } from './events';
import type { AgentLive } from './live';
import type { AgentProfile, Conversation, ConsumerPanel as Panel, Message } from './model';
import { elapsed, lastConsumerMessageAt } from './timeline';
import { Identity } from './Identity';

interface Props {
  id: string;
  agent: AgentProfile;
  live: AgentLive;
  known?: Conversation;
  now: number;
  onChanged: (conversation: Conversation) => void;
  onSeen: (id: string, seq: number) => void;
  onAccept: () => void;
}

/** One conversation: the live transcript, the composer, and the consumer panel beside it. */
export function ConversationView({ id, agent, live, known, now, onChanged, onSeen, onAccept }: Props) {
  const [conversation, setConversation] = useState<Conversation | undefined>(known);
  const [error, setError] = useState<string | null>(null);
  const [draft, setDraft] = useState('');
  const typingSent = useRef(0);
  const log = useRef<HTMLOListElement>(null);
  const timeline = live.watch(id);
  const messages = timeline.messages;
  const last = timeline.lastSeq;

  useEffect(() => {
    get<Conversation>(`/agent/conversations/${id}`)
      .then((c) => { setConversation(c); onChanged(c); })
      .catch((e) => setError(errorText(e)));
  }, [id, onChanged]);
  useEffect(() => { if (known) setConversation(known); }, [known]);

  const mine = conversation?.assignedAgentId === agent.id;
  const open = conversation?.status === 'open';

  // In view: everything shown is read; tell the customer (read receipt) and clear the unread count.
  useEffect(() => {
    if (last > 0 && document.visibilityState === 'visible') {
      onSeen(id, last);
      if (mine) {
        live.read(id, last);
      }
    }
    log.current?.lastElementChild?.scrollIntoView({ block: 'end' });
  }, [id, last, mine, live, onSeen]);

  const act = async (action: () => Promise<{ conversation: Conversation }>) => {
    setError(null);
    try {
      const reply = await action();
      setConversation(reply.conversation);
      onChanged(reply.conversation);
    } catch (e) {
      setError(errorText(e));
    }
  };

  const send = (event: React.FormEvent) => {
    event.preventDefault();
    const text = draft.trim();
    if (!text) {
      return;
    }
    live.send(id, text);
    live.setTyping(id, false);
    typingSent.current = 0;
    setDraft('');
  };

  const typed = (value: string) => {
    setDraft(value);
    if (Date.now() - typingSent.current > 3000 && value) {
      typingSent.current = Date.now();
      live.setTyping(id, true);
    }
  };

  // The customer's own receipt: after a mid-chat login the conversation belongs to the logged-in
  // customer, and a receipt of the anonymous device from before says nothing more.
  const consumerReceipts = (live.receipts.get(id) ?? []).filter((r) => r.role === 'consumer');
  const consumerReceipt = consumerReceipts.find((r) => r.participantId === conversation?.consumerId) ?? consumerReceipts[0];
  const typingAt = live.typing.get(id);
  const customerTyping = typingAt !== undefined && now - typingAt < 6000;
  const lastConsumer = lastConsumerMessageAt(messages);

  return (
    <>
      <main className="conversation" aria-labelledby="conversation-title">
        <header className="conversation-head">
          <h1 id="conversation-title">
            {conversation && <Identity authenticated={conversation.authenticated} />} Conversation
            <span className="muted small-text"> {id.slice(0, 8)}</span>
          </h1>
          <span className="meta">
            {conversation?.queue && <span className="queue">{conversation.queue}</span>}
            <span className={`status ${conversation?.status ?? ''}`}>{conversation?.status}</span>
            {lastConsumer && <span className="since" data-testid="last-consumer">Customer wrote {elapsed(lastConsumer, now)} ago</span>}
          </span>
          <span className="actions">
            {open && !conversation?.assignedAgentId && <button type="button" onClick={onAccept}>Accept</button>}
            {open && mine && <button type="button" className="secondary" onClick={() => act(() => live.close(id))}>Close</button>}
            {conversation && !open && <button type="button" className="secondary" onClick={() => act(() => live.resume(id))}>Resume</button>}
          </span>
        </header>
        {error && <p className="error" role="alert">{error}</p>}
        <div className="transcript" role="log" aria-label="Messages" aria-live="polite" tabIndex={0}>
          <ol ref={log}>
            {messages.map((m) => <MessageItem key={m.seq} message={m} read={consumerReceipt?.readSeq ?? 0} delivered={consumerReceipt?.deliveredSeq ?? 0} />)}
            {timeline.pending.map((p) => (
              <li key={p.clientMessageId} className={`message agent pending ${p.error ? 'failed' : ''}`}>
                <span className="who">You</span>
                <p>{p.text}</p>
                {p.error
                  ? <span className="mark-line error">Not sent: {p.error} <button type="button" className="link" onClick={() => live.discard(id, p.clientMessageId)}>Discard</button></span>
                  : <span className="mark-line">Sending…</span>}
              </li>
            ))}
          </ol>
        </div>
        <p className="typing" aria-live="polite">{customerTyping ? 'The customer is typing…' : ''}</p>
        {open && mine ? (
          <form className="composer" onSubmit={send}>
            <label className="visually-hidden" htmlFor="composer">Message</label>
            <textarea
              id="composer"
              rows={2}
              maxLength={4000}
              value={draft}
              placeholder="Write a reply — Enter sends, Shift+Enter for a new line"
              onChange={(e) => typed(e.target.value)}
              onBlur={() => live.setTyping(id, false)}
              onKeyDown={(e) => {
                if (e.key === 'Enter' && !e.shiftKey) {
                  send(e);
                }
              }}
            />
            <button type="submit" disabled={!draft.trim()}>Send</button>
          </form>
        ) : (
          <p className="muted composer-note">{!open ? 'This conversation is closed. Resume it to reply.' : conversation?.assignedAgentId ? 'Another agent has this conversation.' : 'Accept the conversation to reply.'}</p>
        )}
      </main>
      {conversation && <ConsumerPanel conversation={conversation} lastEvent={lastAuthenticationEvent(messages)} />}
    </>
  );
}

function lastAuthenticationEvent(messages: readonly Message[]): number {
  for (let i = messages.length - 1; i >= 0; i--) {
    if (messages[i].kind === 'event' && messages[i].text.startsWith('authentication.')) {
      return messages[i].seq;
    }
  }
  return 0;
}

function MessageItem({ message, read, delivered }: { message: Message; read: number; delivered: number }) {
  const time = new Date(message.sentAt).toLocaleTimeString([], { hour: '2-digit', minute: '2-digit' });
  if (message.kind === 'event') {
    return (
      <li className={`event ${message.text.replace('.', '-')}`} data-seq={message.seq} data-event={message.text}>
        <span>{describeEvent(message)}</span> <time dateTime={message.sentAt}>{time}</time>
      </li>
    );
  }
  const who = message.senderRole === 'consumer' ? 'Customer' : message.senderRole === 'agent' ? 'Agent' : message.senderRole === 'bot' ? 'Bot' : 'Parley';
  return (
    <li className={`message ${message.senderRole}`} data-seq={message.seq}>
      <span className="who">{who}</span>
      <p>{message.text}</p>
      <span className="mark-line">
        <time dateTime={message.sentAt}>{time}</time>
        {message.senderRole === 'agent' && <span className="receipt"> · {read >= message.seq ? 'Read' : delivered >= message.seq ? 'Delivered' : 'Sent'}</span>}
      </span>
    </li>
  );
}

/** Who the agent is talking to: verified identity and unverified page data, never mixed. */
function ConsumerPanel({ conversation, lastEvent }: { conversation: Conversation; lastEvent: number }) {
  const [panel, setPanel] = useState<Panel | null>(null);
  const [history, setHistory] = useState<Conversation[]>([]);
  const [error, setError] = useState<string | null>(null);

  useEffect(() => {
    get<Panel>(`/agent/conversations/${conversation.id}/consumer`)
      .then((p) => {
        setPanel(p);
        return p.authentication === 'anonymous' ? [] : get<Conversation[]>(`/agent/conversations/${conversation.id}/history`);
      })
      .then(setHistory)
      .catch((e) => setError(errorText(e)));
  }, [conversation.id, conversation.authenticated, conversation.updatedAt, lastEvent]);

  if (error) {
    return <aside className="panel" aria-label="Customer"><p className="error" role="alert">{error}</p></aside>;
  }
  if (!panel) {
    return <aside className="panel" aria-label="Customer" aria-busy="true" />;
  }

  const verified = panel.verified;
  return (
    <aside className="panel" aria-label="Customer">
      <div className={`auth-state ${panel.authentication}`} data-testid="auth-state">
        {panel.authentication === 'authenticated' && <><span className="mark verified big" aria-hidden="true">✓</span> <strong>Authenticated</strong></>}
        {panel.authentication === 'expired' && <><span className="mark expired big" aria-hidden="true">!</span> <strong>Authentication expired</strong></>}
        {panel.authentication === 'anonymous' && <><span className="mark anonymous big" aria-hidden="true">○</span> <strong>Anonymous</strong></>}
        {panel.authenticatedUntil && panel.authentication !== 'anonymous' && (
          <span className="muted small-text">{panel.authentication === 'expired' ? 'ended' : 'until'} {new Date(panel.authenticatedUntil).toLocaleString()}</span>
        )}
      </div>
      {verified && (
        <section aria-labelledby="verified-title" className="verified-section">
          <h2 id="verified-title">Verified <span className="muted small-text">— signed by the brand's identity provider</span></h2>
          <dl>
            {Object.entries(verified.claims).map(([claim, value]) => (
              <div key={claim}><dt>{verified.labels[claim] ?? claim}</dt><dd>{value}</dd></div>
            ))}
            <div><dt>Customer id</dt><dd>{verified.subject}</dd></div>
            <div><dt>Issuer</dt><dd className="small-text">{verified.issuer}</dd></div>
            {verified.acr && <div><dt>Assurance (acr)</dt><dd>{verified.acr}</dd></div>}
          </dl>
          {Object.keys(verified.contextVariables).length > 0 && (
            <>
              <h3>Context variables</h3>
              <dl>{Object.entries(verified.contextVariables).map(([k, v]) => <div key={k}><dt>{k}</dt><dd>{v}</dd></div>)}</dl>
            </>
          )}
        </section>
      )}
      <section aria-labelledby="unverified-title" className="unverified-section">
        <h2 id="unverified-title">Unverified <span className="muted small-text">— from the web page, not proof of identity</span></h2>
        {Object.keys(panel.unverified.engagementAttributes).length === 0 ? <p className="muted">Nothing.</p> : (
          <dl>{Object.entries(panel.unverified.engagementAttributes).map(([k, v]) => <div key={k}><dt>{k}</dt><dd>{v}</dd></div>)}</dl>
        )}
      </section>
      {panel.authentication !== 'anonymous' && (
        <section aria-labelledby="history-title">
          <h2 id="history-title">Previous conversations</h2>
          {history.length === 0 ? <p className="muted">None.</p> : (
            <ul className="history">
              {history.map((c) => (
                <li key={c.id}><a href={`#/conversations/${c.id}`}>{new Date(c.createdAt).toLocaleString()}</a> <span className="muted">{c.status}</span></li>
              ))}
            </ul>
          )}
        </section>
      )}
    </aside>
  );
}
