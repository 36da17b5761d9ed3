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
