import { buildSchema, parse, validate } from "graphql";
import { describe, expect, expectTypeOf, it } from "vitest";
import {
  CreateNoteDocument,
  type CreateNoteMutation,
  type HoldfastClient,
  MeDocument,
  type MeQuery,
  NotesDocument,
  type RequestResult,
  type ResultOf,
  type TypedDocument,
  type VariablesOf,
} from "../../../src/client/index.js";
import * as operations from "../../../src/client/operations.js";
import { printSchemaSdl } from "../../../src/graphql/schema-sdl.js";
import { DEMO_MODULES } from "../../support/demo-modules.js";
import { ada, clientHarness } from "./support/client-harness.js";

// The schema `npm start` serves: the core and the demo modules.
const loadSchema = () => buildSchema(printSchemaSdl(DEMO_MODULES));

const documents = Object.entries(operations).filter(
  ([, value]) => typeof value === "object" && value !== null && "query" in value,
) as [string, TypedDocument<unknown, unknown>][];

describe("typed operations", () => {
  it.each(documents)("%s is valid against the server's schema and names its operation", (_, document) => {
    const ast = parse(document.query);
    expect(validate(loadSchema(), ast).map((e) => e.message)).toEqual([]);
    const definition = ast.definitions[0];
    expect(definition?.kind === "OperationDefinition" ? definition.name?.value : null).toBe(
      document.operationName,
    );
  });

  it("request infers the result type and requires variables only where the operation has required ones", async () => {
    const { client } = clientHarness();
    await client.login(ada);
    const me = await client.request(MeDocument);
    expectTypeOf(me).toEqualTypeOf<RequestResult<MeQuery>>();
    expect(me.data.me?.displayName).toBe("Ada");
    const created = await client.request(CreateNoteDocument, { input: { title: "t", body: "b" } });
    expectTypeOf(created.data).toEqualTypeOf<CreateNoteMutation>();
    expect(created.data.createNote.title).toBe("t");
    await client.request(NotesDocument);
    await client.request(NotesDocument, { first: 5 });
    expectTypeOf<ResultOf<typeof MeDocument>>().toEqualTypeOf<MeQuery>();
    expectTypeOf<
      VariablesOf<typeof CreateNoteDocument>
    >().toEqualTypeOf<operations.CreateNoteMutationVariables>();

    // Compile-time only (checked by `tsc`, never called): wrong or missing variables do not type-check.
    const typeChecks = (c: HoldfastClient) => {
      // @ts-expect-error CreateNote needs its input
      void c.request(CreateNoteDocument);
      // @ts-expect-error title must be a string
      void c.request(CreateNoteDocument, { input: { title: 1, body: "b" } });
      // @ts-expect-error Me takes no variables
      void c.request(MeDocument, { id: "x" });
    };
    void typeChecks;
  });
});
