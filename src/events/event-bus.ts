/**
 * Carries events by topic to every subscriber on every instance. In process on the embedded
 * default (in-process-event-bus.ts); between instances over Redis pub/sub when Redis is configured
 * (redis-event-bus.ts).
 *
 * Payloads travel as JSON in both modes: a subscriber gets `JSON.parse(JSON.stringify(payload))`,
 * deep-frozen and shared by every subscriber of the event. So a module sees the same thing on one
 * instance or many: a `Date` arrives as its ISO string, `undefined` properties are gone, a `Map` is
 * `{}`. Revive what you need where you read it.
 *
 * `publish` never waits for delivery and never throws because of delivery (a listener that throws,
 * Redis away): a write must not fail because of a subscriber. It throws `EventPublishError` at once,
 * before anything is delivered, for the publisher's own mistakes: an invalid topic or a payload
 * JSON cannot carry (a BigInt, a cycle, `undefined`, a function).
 */
export interface EventBus {
  publish(topic: string, payload: unknown): void;
  /** Returns the function that stops the listener. Throws `EventPublishError` for an invalid topic. */
  subscribe(topic: string, listener: (payload: unknown) => void): () => void;
  close(): Promise<void>;
}

/**
 * `context.events` on the GraphQL context (HTTP and WebSocket). `subscribe`, inside a subscription
 * field's `subscribe`, returns this connection's stream of the topic's payloads: bounded by the
 * connection's queue limit, ended when the connection closes. Over HTTP it throws BAD_USER_INPUT
 * `websocket_required`: there is no connection to stream to.
 */
export interface ModuleEvents {
  publish(topic: string, payload: unknown): void;
  subscribe<T = unknown>(topic: string): AsyncIterable<T>;
}
