import { type ClientCore, createClientCore } from "./client-core.js";
import type { HoldfastClient, HoldfastClientOptions } from "./client-types.js";
import { errorOf } from "./graphql-exchange.js";
import { liveSubscriptions } from "./live-subscriptions.js";
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
    ...requestOperation(core),
    ...liveSubscriptions(core, options.webSocket ? { webSocket: options.webSocket } : {}),
    destroy: () => core.destroy(),
  };
  return Object.freeze(client);
}

function requestOperation(core: ClientCore): Pick<HoldfastClient, "request"> {
  return {
    async request<TData, TVariables>(
      document: TypedDocument<TData, TVariables>,
      ...rest: VariablesArgument<TVariables>
    ): Promise<TData> {
      core.assertAlive();
      const exchange = await core.execute({
        query: document.query,
        operationName: document.operationName,
        variables: rest[0] ?? {},
      });
      const data = exchange.body?.data;
      if (!data || exchange.body?.errors?.length) throw errorOf(exchange);
      return data as TData;
    },
  };
}
