/**
 * The publisher's (or subscriber's) own mistake: a bug in the calling code, not a client's input,
 * so it is not an AppError and a client sees it masked. `reason` is stable for tests and logs.
 */
export class EventPublishError extends Error {
  constructor(
    readonly reason: "invalid_topic" | "payload_not_json",
    message: string,
  ) {
    super(message);
    this.name = "EventPublishError";
  }
}
