import { GraphQLScalarType, Kind } from "graphql";
import { BadUserInputError } from "../../errors/app-error.js";

function parse(value: unknown): Date {
  const date = typeof value === "string" ? new Date(value) : new Date(Number.NaN);
  if (Number.isNaN(date.getTime()))
    throw new BadUserInputError("invalid_date", "DateTime must be an ISO-8601 string");
  return date;
}

export const DateTime = new GraphQLScalarType<Date, string>({
  name: "DateTime",
  description: "An instant in time, as an ISO-8601 string in UTC.",
  serialize(value) {
    if (value instanceof Date) return value.toISOString();
    throw new TypeError("DateTime cannot represent a non-Date value");
  },
  parseValue: parse,
  parseLiteral(ast) {
    if (ast.kind !== Kind.STRING)
      throw new BadUserInputError("invalid_date", "DateTime must be an ISO-8601 string");
    return parse(ast.value);
  },
});

/** Any JSON value, passed through: WebAuthn options out, WebAuthn responses in. */
export const JSONScalar = new GraphQLScalarType<unknown, unknown>({
  name: "JSON",
  description: "A JSON value: WebAuthn options and responses.",
  serialize: (value) => value,
  parseValue: (value) => value,
  parseLiteral() {
    // Literals in the document would need their own walk; clients send responses as variables.
    throw new BadUserInputError("invalid_json", "Pass JSON values as variables");
  },
});
