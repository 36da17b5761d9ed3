import type { FastifyReply, FastifyRequest } from "fastify";

/** Every OAuth answer: none of it may be cached by a proxy. */
export function noStore(reply: FastifyReply): FastifyReply {
  return reply.header("cache-control", "no-store").header("pragma", "no-cache");
}

export function formParam(request: FastifyRequest, name: string): string | null {
  const body = request.body;
  if (typeof body !== "object" || body === null) return null;
  const value = (body as Record<string, unknown>)[name];
  return typeof value === "string" && value.length > 0 && value.length <= 8192 ? value : null;
}

/** Every value of a header as sent (Node folds some duplicates; rawHeaders keeps them all). */
export function headerValues(request: FastifyRequest, name: string): string[] {
  const raw = request.raw.rawHeaders;
  const values: string[] = [];
  for (let i = 0; i < raw.length; i += 2) if (raw[i]!.toLowerCase() === name) values.push(raw[i + 1]!);
  return values;
}
