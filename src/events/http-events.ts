import { BadUserInputError } from "../errors/app-error.js";
import type { EventBus, ModuleEvents } from "./event-bus.js";

/** `context.events` of an HTTP request: publishing works; there is no connection to stream to. */
export function httpEvents(bus: Pick<EventBus, "publish">): ModuleEvents {
  return {
    publish: (topic, payload) => bus.publish(topic, payload),
    subscribe: () => {
      throw new BadUserInputError("websocket_required", "Subscriptions are served over WebSocket");
    },
  };
}
