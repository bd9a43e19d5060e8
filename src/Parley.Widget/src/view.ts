import type { Message } from './protocol';
import { styles } from './styles';
import type { Pending } from '../../Parley.Client/src/timeline';

/** What the visitor can do in the messenger; the controller implements it. */
export interface ViewActions {
  open(): void;
  minimize(): void;
  send(text: string): void;
  typing(isTyping: boolean): void;
  endConversation(): void;
  clearHistory(): void;
  resume(): void;
  startNew(): void;
  login(url: string): void;
  /** The notice's Log in button (a login that ended). */
  renewLogin(): void;
  dismissNotice(): void;
}

type Attributes = Record<string, string | boolean | ((event: Event) => void)>;

function el<K extends keyof HTMLElementTagNameMap>(tag: K, attributes: Attributes = {}, ...children: (Node | string)[]): HTMLElementTagNameMap[K] {
  const node = document.createElement(tag);
  for (const [name, value] of Object.entries(attributes)) {
    if (typeof value === 'function') {
      node.addEventListener(name, value);
    } else if (value === true) {
      node.setAttribute(name, '');
    } else if (value !== false) {
      node.setAttribute(name, value);
    }
  }
  node.append(...children);
  return node;
}

const chatIcon = '<svg viewBox="0 0 24 24" aria-hidden="true" focusable="false"><path d="M4 3h16a2 2 0 0 1 2 2v11a2 2 0 0 1-2 2H9l-5 4v-4H4a2 2 0 0 1-2-2V5a2 2 0 0 1 2-2z"/></svg>';

/** What an event message says to the visitor. */
function describe(message: Message): string {
  switch (message.text) {
    case 'authentication.requested': return 'Please log in to continue.';
    case 'authentication.upgraded': return 'You are now logged in; this conversation is authenticated.';
    case 'conversation.closed': return 'The conversation has ended.';
    case 'conversation.resumed': return 'The conversation was resumed.';
    case 'conversation.handover': return 'An agent will be with you shortly.';
    case 'conversation.cleared': return 'The history was cleared.';
    case 'authentication.expired': return 'Your login expired.';
    case 'authentication.logged_out': return 'You logged out.';
    case 'conversation.merged': return message.data?.into
      ? 'You logged in: this chat continues in your conversation as a logged-in customer.'
      : 'You logged in: your chat from before the login was added above.';
    default: return message.text;
  }
}

const senders: Record<string, string> = { consumer: 'You', agent: 'Agent', bot: 'Bot', system: 'Parley' };

/**
 * The messenger's DOM, in a shadow root: a launcher with the unread badge, and the panel with the
 * conversation (an ARIA log, so screen readers announce new messages), notices and the composer.
 */
export class View {
  readonly host: HTMLElement;
  private readonly launcher: HTMLButtonElement;
  private readonly badge: HTMLSpanElement;
  private readonly panel: HTMLElement;
  private readonly state: HTMLSpanElement;
  private readonly notice: HTMLDivElement;
  private readonly noticeText: HTMLParagraphElement;
  private readonly noticeLogIn: HTMLButtonElement;
  private readonly noticeDismiss: HTMLButtonElement;
  private readonly logBox: HTMLDivElement;
  private readonly log: HTMLOListElement;
  private readonly typingLine: HTMLDivElement;
  private readonly closedBar: HTMLDivElement;
  private readonly form: HTMLFormElement;
  private readonly input: HTMLTextAreaElement;
  private readonly sendButton: HTMLButtonElement;
  private readonly tools: HTMLDivElement;
  private readonly confirmClear: HTMLDivElement;
  private readonly title: string;
  private typingTimer: ReturnType<typeof setTimeout> | undefined;
  private typingSent = false;

  constructor(title: string, private readonly pageMode: boolean, private readonly actions: ViewActions) {
    this.title = title;
    this.host = el('div', { id: 'parley-messenger' });
    const root = this.host.attachShadow({ mode: 'open' });
    const sheet = el('style');
    sheet.textContent = styles;

    this.badge = el('span', { class: 'badge', 'aria-hidden': 'true', hidden: true });
    this.launcher = el('button', { type: 'button', class: 'launcher', 'aria-expanded': 'false', 'aria-controls': 'parley-panel', click: () => actions.open() });
    this.launcher.innerHTML = chatIcon;
    this.launcher.append(this.badge);
    this.setUnread(0);

    this.state = el('span', { class: 'state', role: 'status' }, 'Connecting…');
    const header = el('header', {},
      el('h2', { id: 'parley-title' }, title),
      this.state,
      ...(pageMode ? [] : [el('button', { type: 'button', 'aria-label': 'Minimize the chat', click: () => actions.minimize() }, '–')]));

    this.confirmClear = el('div', { class: 'notice', hidden: true },
      el('p', {}, 'Clear this conversation from this device? It ends the conversation and cannot be undone.'),
      el('button', { type: 'button', click: () => { this.confirmClear.hidden = true; actions.clearHistory(); } }, 'Clear'),
      el('button', { type: 'button', click: () => { this.confirmClear.hidden = true; } }, 'Cancel'));
    this.tools = el('div', { class: 'tools', role: 'group', 'aria-label': 'Conversation actions' },
      el('button', { type: 'button', click: () => actions.endConversation() }, 'End conversation'),
      el('button', { type: 'button', click: () => { this.confirmClear.hidden = false; } }, 'Clear history'));

    this.noticeText = el('p');
    this.noticeLogIn = el('button', { type: 'button', class: 'primary', hidden: true, click: () => actions.renewLogin() }, 'Log in');
    this.noticeDismiss = el('button', { type: 'button', 'aria-label': 'Dismiss the notice', click: () => actions.dismissNotice() }, '×');
    this.notice = el('div', { class: 'notice', role: 'alert', hidden: true }, this.noticeText, this.noticeLogIn, this.noticeDismiss);

    this.log = el('ol', { class: 'messages' });
    this.logBox = el('div', { class: 'log', role: 'log', 'aria-label': 'Conversation', tabindex: '0' }, this.log);
    this.typingLine = el('div', { class: 'typing', 'aria-live': 'polite' });
    this.closedBar = el('div', { class: 'closed', hidden: true },
      el('span', {}, 'This conversation has ended.'),
      el('button', { type: 'button', click: () => actions.resume() }, 'Resume'),
      el('button', { type: 'button', click: () => actions.startNew() }, 'New conversation'));

    this.input = el('textarea', { id: 'parley-text', rows: '1', maxlength: '4000', placeholder: 'Type a message', autocomplete: 'off' });
    this.input.addEventListener('keydown', (event) => {
      if (event.key === 'Enter' && !event.shiftKey) {
        event.preventDefault();
        this.form.requestSubmit();
      }
    });
    this.input.addEventListener('input', () => this.noteTyping());
    this.sendButton = el('button', { type: 'submit' }, 'Send');
    this.form = el('form', { 'aria-label': 'Send a message' }, el('label', { for: 'parley-text', class: 'sr' }, 'Message'), this.input, this.sendButton);
    this.form.addEventListener('submit', (event) => {
      event.preventDefault();
      const text = this.input.value.trim();
      if (text.length > 0) {
        this.input.value = '';
        this.stopTyping();
        actions.send(text);
      }
      this.input.focus();
    });

    this.panel = el('section', { class: 'panel', id: 'parley-panel', role: pageMode ? 'main' : 'dialog', 'aria-labelledby': 'parley-title', hidden: !pageMode },
      header, this.tools, this.confirmClear, this.notice, this.logBox, this.typingLine, this.closedBar, this.form);
    this.panel.addEventListener('keydown', (event) => {
      if (event.key === 'Escape' && !pageMode) {
        actions.minimize();
      }
    });
    const wrapper = el('div', { class: pageMode ? 'root page' : 'root' }, ...(pageMode ? [] : [this.launcher]), this.panel);
    root.append(sheet, wrapper);
  }

  get isOpen(): boolean {
    return !this.panel.hidden;
  }

  setOpen(open: boolean, moveFocus: boolean): void {
    if (this.pageMode) {
      return;
    }
    this.panel.hidden = !open;
    this.launcher.setAttribute('aria-expanded', String(open));
    if (moveFocus) {
      (open ? this.input : this.launcher).focus();
    }
    if (open) {
      this.logBox.scrollTop = this.logBox.scrollHeight;
    }
  }

  setUnread(count: number): void {
    this.badge.hidden = count === 0;
    this.badge.textContent = count > 99 ? '99+' : String(count);
    this.launcher.setAttribute('aria-label', count === 0 ? `Open the chat: ${this.title}` : `Open the chat: ${this.title}, ${count} unread ${count === 1 ? 'message' : 'messages'}`);
  }

  setConnection(text: string): void {
    if (this.state.textContent !== text) {
      this.state.textContent = text;
    }
  }

  setNotice(text: string | null, action: 'log-in' | null = null): void {
    this.notice.hidden = text === null;
    this.noticeText.textContent = text ?? '';
    this.noticeLogIn.hidden = action !== 'log-in';
    this.noticeDismiss.hidden = action === 'log-in'; // the only way on is to log in: nothing to dismiss it into
  }

  setTyping(text: string | null): void {
    this.typingLine.textContent = text ?? '';
  }

  /** Whether the visitor can write: not while the conversation is closed or hidden behind a notice. */
  setConversationState(state: 'none' | 'open' | 'closed' | 'blocked'): void {
    this.closedBar.hidden = state !== 'closed';
    this.form.hidden = state === 'closed' || state === 'blocked';
    this.tools.hidden = state !== 'open';
    if (state !== 'open') {
      this.confirmClear.hidden = true;
    }
  }

  /** Redraws the conversation: messages in seq order, then what is still being sent. */
  render(messages: readonly Message[], unsent: readonly Pending[], readUpTo: number, loginDone: boolean): void {
    const box = this.logBox;
    const atBottom = box.scrollHeight - box.scrollTop - box.clientHeight < 40;
    const items: HTMLLIElement[] = [];
    const lastOwn = [...messages].reverse().find((m) => m.senderRole === 'consumer' && m.kind === 'text');
    for (const message of messages) {
      items.push(this.item(message, message === lastOwn ? (readUpTo >= message.seq ? 'Read' : 'Delivered') : null, loginDone));
    }
    for (const pending of unsent) {
      items.push(el('li', { class: 'mine', 'data-pending': 'true' },
        el('span', { class: 'sr' }, 'You: '), el('div', { class: 'msg' }, pending.text), el('span', { class: 'mark' }, 'Sending…')));
    }
    this.reconcile(items);
    if (atBottom || this.pageMode) {
      box.scrollTop = box.scrollHeight;
    }
  }

  clearLog(): void {
    this.log.replaceChildren();
  }

  /**
   * Keeps the existing list items that did not change (so assistive technology announces only the
   * new ones) and replaces or appends the rest.
   */
  private reconcile(items: HTMLLIElement[]): void {
    const current = [...this.log.children] as HTMLLIElement[];
    items.forEach((item, index) => {
      const existing = current[index];
      if (!existing) {
        this.log.append(item);
      } else if (!existing.isEqualNode(item)) {
        existing.replaceWith(item);
      }
    });
    for (let i = items.length; i < current.length; i++) {
      current[i].remove();
    }
  }

  private item(message: Message, mark: string | null, loginDone: boolean): HTMLLIElement {
    if (message.kind === 'event') {
      const item = el('li', { class: 'event', 'data-seq': String(message.seq) }, describe(message));
      const url = message.data?.url;
      if (message.text === 'authentication.requested' && typeof url === 'string') {
        item.append(el('button', { type: 'button', disabled: loginDone, click: () => this.actions.login(url) }, 'Log in'));
      }
      return item;
    }
    const mine = message.senderRole === 'consumer';
    const item = el('li', { class: mine ? 'mine' : 'theirs', 'data-seq': String(message.seq) },
      el('span', { class: mine ? 'sr' : 'who' }, `${senders[message.senderRole] ?? message.senderRole}${mine ? ': ' : ''}`),
      el('div', { class: 'msg' }, message.text));
    if (mark) {
      item.append(el('span', { class: 'mark' }, mark));
    }
    return item;
  }

  private noteTyping(): void {
    if (!this.typingSent) {
      this.typingSent = true;
      this.actions.typing(true);
    }
    clearTimeout(this.typingTimer);
    this.typingTimer = setTimeout(() => this.stopTyping(), 3000);
  }

  private stopTyping(): void {
    clearTimeout(this.typingTimer);
    if (this.typingSent) {
      this.typingSent = false;
      this.actions.typing(false);
    }
  }
}
