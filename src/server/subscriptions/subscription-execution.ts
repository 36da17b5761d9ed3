import { createSourceEventStream, type ExecutionArgs, type ExecutionResult, execute } from "graphql";
import type { GraphQLContext } from "../../graphql/context.js";

const resultEvents = new WeakMap<object, unknown>();

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
 */
export async function subscribePerEvent(
  args: ExecutionArgs,
  contextFor: (event: unknown) => GraphQLContext,
  admit: () => true | Promise<boolean> = () => true,
): Promise<AsyncIterableIterator<ExecutionResult> | ExecutionResult> {
  const source = await createSourceEventStream(args);
  if (!isAsyncIterator(source)) return source as ExecutionResult;
  const events = source as AsyncIterator<unknown>;
  const results: AsyncIterableIterator<ExecutionResult> = {
    async next() {
      const next = await events.next();
      if (next.done) return { value: undefined, done: true };
      // Fail closed (issue 25): an event this instance cannot vouch for waits, or ends the stream.
      const admitted = admit();
      if (admitted !== true && !(await admitted)) {
        await events.return?.();
        return { value: undefined, done: true };
      }
      const result = await execute({
        ...args,
        rootValue: next.value,
        contextValue: contextFor(next.value),
      });
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
