import { type ClientCore, createClientCore } from "./client-core.js";
import type { HoldfastClient, HoldfastClientOptions, RequestResult } from "./client-types.js";
import { errorOf } from "./graphql-exchange.js";
import { liveSubscriptions } from "./live-subscriptions.js";
import { passkeyOperations } from "./passkey-operations.js";
import { sessionOperations } from "./session-operations.js";
import type { TypedDocument, VariablesArgument } from "./typed-document.js";

export type {
  ClientClock,
  ClientState,
  ClientTimers,
  HoldfastClient,
  HoldfastClientOptions,
  LoginCredentials,
  RegisterDetails,
  RequestResult,
  SessionInfo,
  SessionLostReason,
} from "./client-types.js";

// How the client is put together (each part in its own file):
//   transport.ts         HTTP, DPoP proofs, server nonce and clock offset
//   session-holder.ts    the tokens (memory only), the other holders' news, change listeners
//   refresher.ts         single-flight refresh under the shared lock, retries, the optional timer
//   client-core.ts       wires them, runs operations with the session's token
//   session-operations.ts, and the features below: the public methods, each `(core) => methods`.
// A new feature is a new module `(core: ClientCore) => methods`, spread into the client here.

/**
 * A GraphQL client that keeps the access token in memory (never in storage, never on the returned
 * object), binds it to a non-extractable DPoP key, refreshes it ahead of expiry once for all callers,
 * and ends the session cleanly when the server says it is over.
 */
export function createHoldfastClient(options: HoldfastClientOptions): HoldfastClient {
  const core = createClientCore(options);
  const client: HoldfastClient = {
    ...sessionOperations(core),
    ...passkeyOperations(core),
    ...requestOperation(core),
    ...liveSubscriptions(core, options.webSocket ? { webSocket: options.webSocket } : {}),
    destroy: () => core.destroy(),
  };
  return Object.freeze(client);
}

/**
 * A partial answer is an answer. GraphQL responds with `data` and `errors` side by side (spec
 * §7.1, "Response Format"): a field the caller may not read is `null` with an error at its path,
 * and the rest is good data. urql's `OperationResult` hands back `data` and `error` together and
 * never throws; Apollo Client does the same with `errorPolicy: "all"` (its default, "none", drops
 * the data, which made every partly readable list need `.catch((e) => e.data)`). So `request()`
 * resolves `{ data, errors }`, and throws only when there is nothing to use: no data (a refused
 * mutation, a validation error, a network failure) or a refused authentication (HTTP 401) that the
 * client's one refresh and retry in `core.execute` did not cure.
 */
function requestOperation(core: ClientCore): Pick<HoldfastClient, "request"> {
  return {
    async request<TData, TVariables>(
      document: TypedDocument<TData, TVariables>,
      ...rest: VariablesArgument<TVariables>
    ): Promise<RequestResult<TData>> {
      core.assertAlive();
      const exchange = await core.execute({
        query: document.query,
        operationName: document.operationName,
        variables: rest[0] ?? {},
      });
      const data = exchange.body?.data;
      if (!data || exchange.status === 401) throw errorOf(exchange);
      const errors = exchange.body?.errors ?? [];
      return errors.length > 0 ? { data: data as TData, errors } : { data: data as TData };
    },
  };
}
