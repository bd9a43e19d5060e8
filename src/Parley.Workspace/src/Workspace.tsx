import { useCallback, useEffect, useMemo, useReducer, useRef, useState } from 'react';
import { errorText, get, post } from './api';
import { AgentLive } from './live';
import type { AgentProfile, Conversation, Message } from './model';
import { chime, setUnreadTitle } from './notify';
import { go } from './route';
import { elapsed, orderQueue } from './timeline';
import { ConversationView } from './ConversationView';
import { Identity } from './Identity';

function socketUrl(): string {
  return `${location.protocol === 'https:' ? 'wss' : 'ws'}://${location.host}/ws/agent`;
}

/** The agent's day: the waiting line, their open conversations, the one in view and who they are talking to. */
export function Workspace({ agent, selected, onSignedOut }: { agent: AgentProfile; selected?: string; onSignedOut: () => void }) {
  const [, render] = useReducer((n: number) => n + 1, 0);
  const [conversations, setConversations] = useState<Map<string, Conversation>>(new Map());
  const [waiting, setWaiting] = useState<Conversation[]>([]);
  const [error, setError] = useState<string | null>(null);
  const [now, setNow] = useState(Date.now());
  /** conversationId → the last seq the agent has seen (in view); consumer messages after it are unread. */
  const seen = useRef(new Map<string, number>());
  const selectedRef = useRef(selected);
  selectedRef.current = selected;

  /** Reloads the waiting line, at most once per 300 ms however many changes arrive (a busy tenant sends many). */
  const queueTimer = useRef<number | null>(null);
  const refreshQueue = useCallback(() => {
    if (queueTimer.current !== null) {
      return;
    }
    queueTimer.current = window.setTimeout(() => {
      queueTimer.current = null;
      get<Conversation[]>('/agent/queue?limit=100').then((items) => setWaiting(orderQueue(items))).catch(() => undefined);
    }, 300);
  }, []);

  const upsert = useCallback((conversation: Conversation) => {
    setConversations((current) => new Map(current).set(conversation.id, conversation));
  }, []);

  /** The agent's own open conversations; others arrive as conversation.updated frames. */
  const loadConversations = useCallback(() => {
    post<Conversation[]>('/agent/conversations/search', { assigned: 'me', status: 'open', limit: 200 })
      .then((items) => setConversations(new Map(items.map((c) => [c.id, c]))))
      .catch((e) => setError(errorText(e)));
  }, []);

  const live = useMemo(() => new AgentLive({ url: socketUrl() }, {
    change: render,
    ready: () => {
      loadConversations();
      refreshQueue();
    },
    conversation: (conversation) => {
      upsert(conversation);
      refreshQueue();
    },
    message: (message: Message) => {
      const inView = selectedRef.current === message.conversationId && document.visibilityState === 'visible' && document.hasFocus();
      const known = seen.current.get(message.conversationId) ?? 0;
      if (message.senderRole === 'consumer' && message.seq > known && !inView) {
        chime();
      }
    },
  }), [upsert, refreshQueue, loadConversations]);

  useEffect(() => {
    live.start();
    loadConversations();
    refreshQueue();
    const tick = setInterval(() => setNow(Date.now()), 1000);
    const poll = setInterval(refreshQueue, 15_000);
    return () => {
      live.stop();
      clearInterval(tick);
      clearInterval(poll);
    };
  }, [live, refreshQueue, loadConversations]);

  useEffect(() => {
    if (live.state === 'signed-out') {
      onSignedOut();
    }
  });

  const mine = [...conversations.values()]
    .filter((c) => c.assignedAgentId === agent.id && c.status === 'open')
    .sort((a, b) => Date.parse(a.createdAt) - Date.parse(b.createdAt));

  // Every conversation the agent holds is watched, so its messages arrive (and notify) even out of view.
  useEffect(() => {
    for (const c of mine) {
      if (!live.timelines.has(c.id)) {
        // What was there before the agent took it, or before this page opened, is not news.
        seen.current.set(c.id, seen.current.get(c.id) ?? c.lastSeq);
        live.watch(c.id);
      }
    }
  });

  const unreadOf = (id: string) => {
    const timeline = live.timelines.get(id);
    const last = seen.current.get(id) ?? 0;
    return timeline ? timeline.messages.filter((m) => m.seq > last && m.kind === 'text' && m.senderRole === 'consumer').length : 0;
  };
  const unread = mine.reduce((sum, c) => sum + (c.id === selected && document.visibilityState === 'visible' ? 0 : unreadOf(c.id)), 0);
  useEffect(() => setUnreadTitle(unread), [unread]);

  const accept = async (id: string) => {
    setError(null);
    try {
      const reply = await live.accept(id);
      upsert(reply.conversation);
      refreshQueue();
      go('conversations', id);
    } catch (e) {
      setError(errorText(e));
      refreshQueue();
    }
  };

  const takeNext = async () => {
    setError(null);
    try {
      const next = await post<Conversation | undefined>('/agent/conversations/next');
      if (next) {
        upsert(next);
        go('conversations', next.id);
      } else {
        setError('Nobody is waiting in your queues.');
      }
      refreshQueue();
    } catch (e) {
      setError(errorText(e));
    }
  };

  const current = selected ? conversations.get(selected) : undefined;
  const markSeen = useCallback((id: string, seq: number) => {
    if ((seen.current.get(id) ?? 0) < seq) {
      seen.current.set(id, seq);
      render();
    }
  }, []);

  return (
    <div className="workspace">
      <aside className="lists" aria-label="Conversations">
        <p className={`connection ${live.state}`} role="status">
          {live.state === 'open' ? 'Connected' : live.state === 'reconnecting' ? 'Reconnecting…' : live.state === 'connecting' ? 'Connecting…' : 'Signed out'}
        </p>
        {error && <p className="error" role="alert">{error}</p>}
        <section aria-labelledby="queue-title">
          <div className="row">
            <h2 id="queue-title">Waiting <span className="count">{waiting.length}</span></h2>
            <button type="button" className="secondary small" onClick={takeNext} disabled={waiting.length === 0}>Take next</button>
          </div>
          {waiting.length === 0 ? <p className="muted">Nobody is waiting.</p> : (
            <ul className="items" aria-label="Waiting conversations">
              {waiting.map((c) => (
                <li key={c.id} className="item" data-conversation={c.id}>
                  <a href={`#/conversations/${c.id}`} className="title">
                    <Identity authenticated={c.authenticated} /> Customer {c.consumerId.slice(0, 8)}
                  </a>
                  <span className="meta">
                    <span className="queue">{c.queue}</span>
                    {(c.priority ?? 0) > 0 && <span className="priority" title="Priority">P{c.priority}</span>}
                    <span aria-label="waiting for">{elapsed(c.queuedAt ?? c.createdAt, now)}</span>
                  </span>
                  <button type="button" className="small" onClick={() => accept(c.id)}>Accept</button>
                </li>
              ))}
            </ul>
          )}
        </section>
        <section aria-labelledby="mine-title">
          <h2 id="mine-title">Mine <span className="count">{mine.length} / {agent.capacity}</span></h2>
          {mine.length === 0 ? <p className="muted">No open conversations.</p> : (
            <ul className="items" aria-label="My conversations">
              {mine.map((c) => {
                const count = c.id === selected ? 0 : unreadOf(c.id);
                return (
                  <li key={c.id} className={`item ${c.id === selected ? 'active' : ''}`} data-conversation={c.id}>
                    <a href={`#/conversations/${c.id}`} className="title" aria-current={c.id === selected ? 'true' : undefined}>
                      <Identity authenticated={c.authenticated} /> Customer {c.consumerId.slice(0, 8)}
                    </a>
                    <span className="meta"><span className="queue">{c.queue}</span>
                      {count > 0 && <span className="badge" aria-label={`${count} unread`}>{count}</span>}
                    </span>
                  </li>
                );
              })}
            </ul>
          )}
        </section>
      </aside>
      {selected ? (
        <ConversationView
          key={selected}
          id={selected}
          agent={agent}
          live={live}
          known={current}
          now={now}
          onChanged={upsert}
          onSeen={markSeen}
          onAccept={() => accept(selected)}
        />
      ) : (
        <main className="empty"><p className="muted">Pick a conversation, or accept one that is waiting.</p></main>
      )}
    </div>
  );
}
