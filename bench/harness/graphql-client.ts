// Setup requests (register, login, checks) over real HTTP with Node's fetch; never measured.

export interface GraphQLAnswer<TData> {
  readonly status: number;
  readonly data: TData | null | undefined;
  readonly errors: readonly { message: string; extensions?: Record<string, unknown> }[] | undefined;
}

export async function gql<TData = Record<string, unknown>>(
  graphqlUrl: string,
  query: string,
  options: { variables?: Record<string, unknown>; headers?: Record<string, string> } = {},
): Promise<GraphQLAnswer<TData>> {
  const response = await fetch(graphqlUrl, {
    method: "POST",
    headers: { "content-type": "application/json", ...options.headers },
    body: JSON.stringify({ query, variables: options.variables ?? {} }),
  });
  const body = (await response.json()) as { data?: TData | null; errors?: GraphQLAnswer<TData>["errors"] };
  return { status: response.status, data: body.data, errors: body.errors };
}

export interface BenchUser {
  readonly userId: string;
  readonly email: string;
  readonly accessToken: string;
  /** BODY delivery, so a plain client can rotate it. */
  readonly refreshToken: string;
  readonly sessionId: string;
}

const REGISTER = `mutation Register($input: RegisterInput!) {
  register(input: $input) { accessToken refreshToken session { id } user { id } }
}`;

export const BENCH_PASSWORD = "bench password, long enough";
let registered = 0;

/** Registers a fresh user through the API (one session, refresh token in the body). */
export async function registerUser(graphqlUrl: string): Promise<BenchUser> {
  registered += 1;
  const email = `bench${registered}-${process.pid}@bench.example`;
  const answer = await gql<{
    register: {
      accessToken: string;
      refreshToken: string | null;
      session: { id: string };
      user: { id: string };
    };
  }>(graphqlUrl, REGISTER, {
    variables: {
      input: {
        email,
        password: BENCH_PASSWORD,
        displayName: `Bench ${registered}`,
        refreshTokenDelivery: "BODY",
      },
    },
  });
  const payload = answer.data?.register;
  if (!payload?.refreshToken) throw new Error(`register failed: ${JSON.stringify(answer.errors)}`);
  return {
    userId: payload.user.id,
    email,
    accessToken: payload.accessToken,
    refreshToken: payload.refreshToken,
    sessionId: payload.session.id,
  };
}
