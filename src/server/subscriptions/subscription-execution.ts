import { performance } from "node:perf_hooks";
import { createSourceEventStream, type ExecutionArgs, type ExecutionResult, execute } from "graphql";
import type { GraphQLContext } from "../../graphql/context.js";

const resultEvents = new WeakMap<object, unknown>();

/**
 * Delivery runs in short slices between turns of the event loop. A fan-out is promises all the
 * way down (queue → execute → send, whose callback is a nextTick), so without a yield a backlog
 * of a thousand subscriptions drained in one turn: /healthz and logouts waited seconds behind it
 * (issue 25, the storm). Past SLICE_MS, deliveries queue up (FIFO) and are let go BATCH per turn
 * (setImmediate runs after the poll phase, so pending requests are served in between).
 */
const SLICE_MS = 2;
const BATCH = 16;
let sliceStarted = performance.now();
const waiting: (() => void)[] = [];
let scheduled = false;

function releaseBatch(): void {
  scheduled = false;
  sliceStarted = performance.now();
  for (const resume of waiting.splice(0, BATCH)) resume();
  if (waiting.length > 0) scheduleRelease();
}

function scheduleRelease(): void {
  if (scheduled) return;
  scheduled = true;
  setImmediate(releaseBatch);
}

/** A promise to await before the next delivery when the slice is spent (or others wait); else null. */
function turnToYield(): Promise<void> | null {
  if (waiting.length === 0 && performance.now() - sliceStarted < SLICE_MS) return null;
  scheduleRelease();
  return new Promise((resolve) => waiting.push(resolve));
}

/** Each event's renderings, by everything a result can depend on besides the event (render key). */
const renderings = new WeakMap<object, Map<string, Promise<ExecutionResult>>>();

/**
 * The result for `key` of this event: rendered by the first subscriber that asks, shared by every
 * later one with the same key (a promise, so subscribers arriving mid-render wait for it rather
 * than render again). Keyed by the event object itself: the next event starts empty, and the
 * renderings go when the event is no longer queued anywhere.
 */
function renderOnce(
  event: unknown,
  key: string,
  render: () => ExecutionResult | Promise<ExecutionResult>,
): Promise<ExecutionResult> | ExecutionResult {
  if (typeof event !== "object" || event === null) return render();
  let byKey = renderings.get(event);
  if (!byKey) {
    byKey = new Map();
    renderings.set(event, byKey);
  }
  let found = byKey.get(key);
  if (!found) {
    found = Promise.resolve(render());
    byKey.set(key, found);
  }
  return found;
}

/** The event a result of `subscribePerEvent` was made from (the byte budget charges it). */
export function eventOfResult(result: object): unknown {
  return resultEvents.get(result);
}

/**
 * graphql-js runs every event of a subscription with the context of its start. Here each event
 * gets a fresh context (`contextFor`, the connection's in subscription-server.ts): the viewer *at
 * delivery*, so the permission map decides every event with the token the connection holds now.
 * Same schema, same rules, same fast path as a query; only the context is per event. `admit`
 * runs first: an event waits while a logout could have been missed (revocation-freshness.ts).
 *
 * `renderKey`, when given, names everything this subscription's result depends on besides the
 * event, asked at delivery (so a renewal that narrowed the scopes gets a rendering of its own):
 * subscribers with equal keys share one execution per event (issue 25, the storm).
 */
export async function subscribePerEvent(
  args: ExecutionArgs,
  contextFor: (event: unknown) => GraphQLContext,
  admit: () => true | Promise<boolean> = () => true,
  renderKey?: () => string,
): Promise<AsyncIterableIterator<ExecutionResult> | ExecutionResult> {
  const source = await createSourceEventStream(args);
  if (!isAsyncIterator(source)) return source as ExecutionResult;
  const events = source as AsyncIterator<unknown>;
  const results: AsyncIterableIterator<ExecutionResult> = {
    async next() {
      const next = await events.next();
      if (next.done) return { value: undefined, done: true };
      const turn = turnToYield();
      if (turn) await turn;
      // Fail closed (issue 25): an event this instance cannot vouch for waits, or ends the stream.
      const admitted = admit();
      if (admitted !== true && !(await admitted)) {
        await events.return?.();
        return { value: undefined, done: true };
      }
      const render = () => execute({ ...args, rootValue: next.value, contextValue: contextFor(next.value) });
      const result = await (renderKey ? renderOnce(next.value, renderKey(), render) : render());
      resultEvents.set(result, next.value);
      return { value: result, done: false };
    },
    // Straight to the source, so a waiting next() ends now rather than at the next event.
    async return() {
      await events.return?.();
      return { value: undefined, done: true };
    },
    async throw(error: unknown) {
      await events.return?.();
      throw error;
    },
    [Symbol.asyncIterator]() {
      return this;
    },
  };
  return results;
}

function isAsyncIterator(value: unknown): value is AsyncIterator<unknown> {
  return typeof value === "object" && value !== null && Symbol.asyncIterator in value;
}
