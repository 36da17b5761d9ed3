import { EventPublishError } from "./event-error.js";

/** Long enough for `orders:42:status`-like names; short enough to stay a name, not data. */
export const MAX_TOPIC_LENGTH = 200;
/** Printable ASCII without spaces: a topic rides in a Redis message header line and in logs. */
const TOPIC = /^[\x21-\x7e]+$/;

export function checkTopic(topic: string): string {
  if (
    typeof topic !== "string" ||
    topic.length === 0 ||
    topic.length > MAX_TOPIC_LENGTH ||
    !TOPIC.test(topic)
  ) {
    throw new EventPublishError(
      "invalid_topic",
      `An event topic is 1 to ${MAX_TOPIC_LENGTH} printable ASCII characters without spaces`,
    );
  }
  return topic;
}

/** The payload as the wire carries it; throws at the publisher for what JSON cannot carry. */
export function encodePayload(topic: string, payload: unknown): string {
  let json: string | undefined;
  try {
    json = JSON.stringify(payload);
  } catch (error) {
    const why = error instanceof Error ? error.message : String(error);
    throw new EventPublishError("payload_not_json", `The payload for topic "${topic}" is not JSON: ${why}`);
  }
  if (json === undefined) {
    throw new EventPublishError(
      "payload_not_json",
      `The payload for topic "${topic}" is not JSON (${typeof payload})`,
    );
  }
  return json;
}

/** What every subscriber of one event shares: parsed once, frozen so no subscriber changes another's. */
export function decodePayload(json: string): unknown {
  return deepFreeze(JSON.parse(json));
}

function deepFreeze(value: unknown): unknown {
  if (typeof value === "object" && value !== null) {
    for (const inner of Object.values(value)) deepFreeze(inner);
    Object.freeze(value);
  }
  return value;
}
