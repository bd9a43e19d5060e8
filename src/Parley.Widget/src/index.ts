import { Messenger } from './messenger';

/**
 * Parley's messenger: `<script src="https://PARLEY/widget.js" data-deployment="ID" async></script>`.
 * Everything it adds to the page is one element (its own shadow root) and one global, `Parley`.
 */
interface ParleyNamespace {
  identities: unknown[];
  attributes: Record<string, string>;
  open?(): void;
  minimize?(): void;
  endConversation?(): void;
  logout?(): Promise<void>;
  clearHistory?(): void;
  on?(event: string, handler: (detail: unknown) => void): void;
  readonly unread?: number;
  readonly connection?: string;
  readonly conversationId?: string | null;
  readonly authenticated?: boolean;
}

declare global {
  interface Window {
    Parley?: Partial<ParleyNamespace>;
  }
}

(() => {
  const script = document.currentScript as HTMLScriptElement | null;
  const deploymentId = script?.dataset.deployment;
  if (!script || !deploymentId) {
    console.warn('Parley: the widget script needs data-deployment="<deployment id>".');
    return;
  }
  const namespace = (window.Parley ??= {}) as ParleyNamespace;
  if (typeof namespace.open === 'function') {
    console.warn('Parley: the widget script is on this page twice; the second copy does nothing.');
    return;
  }
  namespace.identities ??= [];
  namespace.attributes ??= {};
  const handlers = new Map<string, Set<(detail: unknown) => void>>();
  const messenger = new Messenger({
    base: new URL(script.src, location.href).origin,
    deploymentId,
    pageMode: script.dataset.mode === 'page',
    identities: () => namespace.identities,
    attributes: () => namespace.attributes,
    emit: (event, detail) => handlers.get(event)?.forEach((handler) => {
      try {
        handler(detail);
      } catch {
        // A brand's handler failing does not stop the messenger.
      }
    }),
  });
  Object.defineProperties(namespace, {
    open: { value: () => messenger.open() },
    minimize: { value: () => messenger.minimize() },
    endConversation: { value: () => messenger.endConversation() },
    logout: { value: () => messenger.logout() },
    clearHistory: { value: () => messenger.clearHistory() },
    on: {
      value: (event: string, handler: (detail: unknown) => void) => {
        if (!handlers.has(event)) {
          handlers.set(event, new Set());
        }
        handlers.get(event)!.add(handler);
      },
    },
    unread: { get: () => messenger.unread },
    connection: { get: () => messenger.connectionState },
    conversationId: { get: () => messenger.currentConversationId },
    authenticated: { get: () => messenger.isAuthenticated },
  });
  const start = () => messenger.boot().catch((error: Error) => console.warn(`Parley: the messenger could not start: ${error.message}`));
  if (document.body) {
    void start();
  } else {
    document.addEventListener('DOMContentLoaded', () => void start(), { once: true });
  }
})();
