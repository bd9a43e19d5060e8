/** Parley's TypeScript client (docs/client.md). */
export * from './frames';
export { Backoff } from './backoff';
export { Connection, ProtocolError, type ConnectionEvents, type ConnectionOptions, type ConnectionState, type SocketLike } from './connection';
export { ConversationSync, type OutboxStore, type SyncEvents, type SyncOptions } from './sync';
export { Timeline, type Pending } from './timeline';
