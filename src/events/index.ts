/** Publish/subscribe by topic for any module: in process, or between instances over Redis. */
export { ConnectionStreams, type ConnectionStreamsOptions } from "./connection-streams.js";
export type { EventBus, ModuleEvents } from "./event-bus.js";
export { EventPublishError } from "./event-error.js";
export { MAX_TOPIC_LENGTH } from "./event-payload.js";
export { httpEvents } from "./http-events.js";
export { InProcessEventBus } from "./in-process-event-bus.js";
export { RedisEventBus } from "./redis-event-bus.js";
