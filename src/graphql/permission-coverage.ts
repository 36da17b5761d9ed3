import type { GraphQLScalarType } from "graphql";
import type { FieldRule } from "../authz/field-rule.js";
import { permissions } from "../authz/permissions.js";
import type { Resolvers, ResolversParentTypes } from "./generated/resolvers-types.js";

/** The schema's object types, as the generated resolver types name them (scalars left out). */
export type ObjectTypeName = {
  [T in keyof Resolvers]-?: NonNullable<Resolvers[T]> extends GraphQLScalarType ? never : T;
}[keyof Resolvers];

/**
 * The permission map as the schema requires it: a rule for every field of every object type, each
 * typed by its parent (an owner rule reads the owner from the object the resolver returns).
 */
export type SchemaPermissionMap = {
  readonly [T in ObjectTypeName]: {
    readonly [F in keyof NonNullable<Resolvers[T]>]-?: FieldRule<ResolversParentTypes[T]>;
  };
};

/** `Type.field` names the map has and the schema does not: `never` when there are none. */
type ExtraFields<M> = {
  [T in keyof M & string]: T extends ObjectTypeName
    ? `${T}.${Exclude<keyof M[T], keyof SchemaPermissionMap[T]> & string}`
    : `${T}.*`;
}[keyof M & string];

/**
 * The compile-time half of "every field has a rule" (the run-time half is the guard in
 * authz/shield.ts): a field added to the SDL, then `npm run codegen`, does not compile until
 * src/authz/permissions.ts has a rule for it, and a rule for a removed field does not compile either.
 */
export const schemaPermissions: SchemaPermissionMap = permissions;
const noExtraFields: [ExtraFields<typeof permissions>] extends [never]
  ? true
  : ExtraFields<typeof permissions> = true;
void noExtraFields;
