// `holdfast`: the public entry. Everything a module or an application needs is exported here, and
// nothing else is promised: a module that imports only this file survives Holdfast's upgrades.
export {
  authenticated,
  hasScope,
  ownerOr,
  parent,
  publicField,
  recentAuthentication,
  type ScopeRequirement,
} from "./authz/field-rule.js";
export { PermissionMapError } from "./authz/shield.js";
export type { Clock } from "./clock.js";
export { withDatabase } from "./db/errors.js";
export {
  AppError,
  BadUserInputError,
  ForbiddenError,
  NotFoundError,
  ServiceUnavailableError,
  TooManyRequestsError,
  UnauthenticatedError,
} from "./errors/app-error.js";
export { ModuleCompositionError } from "./graphql/compose-modules.js";
export { requireViewer } from "./graphql/context.js";
export {
  defineModule,
  type FieldExtensions,
  type FieldResolverWithExtensions,
  type HoldfastModule,
  type ModuleResolvers,
  type ModuleScope,
  type Policy,
  type PolicyInput,
  type SubscriptionFieldResolver,
} from "./graphql/module-definition.js";
export type { ModuleHost } from "./graphql/module-host.js";
export type {
  HoldfastContext,
  HoldfastDatabase,
  HoldfastUser,
  HoldfastViewer,
  ModuleEvents,
} from "./graphql/public-context.js";
export { newId } from "./ids.js";
export { encodeCursor, MAX_PAGE_SIZE, type Page, pageArgs, toPage } from "./pagination.js";
export {
  type CreateHoldfastOptions,
  createHoldfast,
  type Holdfast,
  HoldfastStartError,
  type ListenOptions,
} from "./server/create-holdfast.js";
