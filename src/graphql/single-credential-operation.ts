import { type ASTVisitor, type FieldNode, GraphQLError, type ValidationContext } from "graphql";

// Every field that checks a password or an assertion, or rotates a refresh token.
const CREDENTIAL_FIELDS = new Set([
  "login",
  "register",
  "refresh",
  "changePassword",
  "reauthenticate",
  "passkeySignIn",
  "addPasskey",
]);

/**
 * Validation rule: an operation may hold at most one of login, register and refresh. Aliases
 * (`a: login … b: login …`) would otherwise multiply password guesses or race one refresh token;
 * refusing at validation means nothing of the operation runs.
 */
export function singleCredentialOperation(context: ValidationContext): ASTVisitor {
  return {
    OperationDefinition(operation) {
      if (operation.operation !== "mutation") return;
      const found: FieldNode[] = [];
      const seenFragments = new Set<string>();
      const visit = (selections: readonly import("graphql").SelectionNode[]) => {
        for (const selection of selections) {
          if (selection.kind === "Field") {
            if (CREDENTIAL_FIELDS.has(selection.name.value)) found.push(selection);
          } else if (selection.kind === "InlineFragment") {
            visit(selection.selectionSet.selections);
          } else if (!seenFragments.has(selection.name.value)) {
            seenFragments.add(selection.name.value);
            const fragment = context.getFragment(selection.name.value);
            if (fragment) visit(fragment.selectionSet.selections);
          }
        }
      };
      visit(operation.selectionSet.selections);
      if (found.length > 1) {
        context.reportError(
          new GraphQLError(`An operation may contain at most one of ${[...CREDENTIAL_FIELDS].join(", ")}`, {
            nodes: found,
            extensions: { reason: "multiple_credential_fields" },
          }),
        );
      }
    },
  };
}
