// The scope catalogue: the core's scopes plus each module's, checked once at start.
import { describe, expect, it } from "vitest";
import { scopesAtLogin } from "../../src/authz/login-scopes.js";
import {
  CORE_SCOPES,
  createScopeCatalogue,
  ScopeCatalogueError,
  scopeCatalogue,
} from "../../src/authz/scope-catalogue.js";
import { notes } from "../../src/modules/notes/index.js";
import { demoCatalogue as defaultScopeCatalogue } from "../support/demo-modules.js";

const noteScopes = { name: notes.name, scopes: notes.scopes ?? {} };

const orders = {
  name: "orders",
  scopes: {
    "orders:read": { description: "Read your orders" },
    "orders:read:any": { description: "Read every order", adminOnly: true },
    "orders:export": { description: "Export orders (granted by an integration)", grantedAtLogin: false },
    "orders:refund": { description: "Refund an order", keptOnlyWhenNamed: true },
  },
};

function problemsOf(build: () => unknown): readonly string[] {
  try {
    build();
  } catch (error) {
    if (error instanceof ScopeCatalogueError) return error.problems;
    throw error;
  }
  return [];
}

describe("the core catalogue", () => {
  it("knows only the core's scopes: the notes scopes belong to the notes module", () => {
    expect(scopeCatalogue().scopes).toEqual([
      "sessions:read",
      "account:manage",
      "users:read",
      "users:read:email",
      "sessions:admin",
      "keys:admin",
    ]);
    expect(Object.keys(CORE_SCOPES).some((s) => s.startsWith("notes:"))).toBe(false);
    expect(defaultScopeCatalogue.sourceOf("notes:read")).toBe("notes");
    expect(defaultScopeCatalogue.sourceOf("account:manage")).toBe("core");
  });
});

describe("scopes from modules", () => {
  const catalogue = scopeCatalogue([orders]);

  it("grants at login by role: adminOnly to admins only, grantedAtLogin: false to nobody", () => {
    expect(catalogue.grantedAtLogin("user")).toEqual([
      "sessions:read",
      "account:manage",
      "users:read",
      "orders:read",
      "orders:refund",
    ]);
    expect(catalogue.grantedAtLogin("admin")).toEqual([
      ...Object.keys(CORE_SCOPES),
      "orders:read",
      "orders:read:any",
      "orders:refund",
    ]);
    expect(catalogue.has("orders:export")).toBe(true);
    expect(catalogue.isAdminOnly("orders:read:any")).toBe(true);
    expect(catalogue.isAdminOnly("orders:read")).toBe(false);
  });

  it("login refuses a scope the role is not granted, and grants the role's when none are asked for", () => {
    const login = scopesAtLogin(catalogue);
    expect(login("user", null)).toEqual(catalogue.grantedAtLogin("user"));
    expect(login("user", ["orders:read", "orders:read"])).toEqual(["orders:read"]);
    for (const refused of [["orders:read:any"], ["orders:export"], ["orders:unknown"]]) {
      expect(() => login("user", refused)).toThrow(expect.objectContaining({ reason: "invalid_scope" }));
    }
    expect(login("admin", ["orders:read:any"])).toEqual(["orders:read:any"]);
  });

  it("marks the scopes narrowToken keeps only when named", () => {
    expect(catalogue.keptOnlyWhenNamed("account:manage")).toBe(true);
    expect(catalogue.keptOnlyWhenNamed("orders:refund")).toBe(true);
    expect(catalogue.keptOnlyWhenNamed("orders:read")).toBe(false);
  });

  it("refuses a scope declared twice, naming both declarers", () => {
    const clash = { name: "billing", scopes: { "orders:read": { description: "also mine" } } };
    expect(problemsOf(() => scopeCatalogue([orders, clash]))).toEqual([
      'scope "orders:read" is declared by both orders and billing',
    ]);
    const core = { name: "notes", scopes: { "users:read": { description: "mine" } } };
    expect(problemsOf(() => scopeCatalogue([noteScopes, core]))).toEqual([
      'scope "users:read" is declared by both core and notes',
    ]);
  });

  it("refuses what is not an RFC 6749 scope-token, and a definition without a description, all at once", () => {
    const bad = {
      name: "bad",
      scopes: {
        "two words": { description: "a space" },
        'quote"d': { description: "a quote" },
        "": { description: "empty" },
        "bad:nodescription": { description: " " },
      },
    };
    expect(problemsOf(() => createScopeCatalogue([bad]))).toEqual([
      'bad: scope "two words" is not an RFC 6749 scope-token',
      'bad: scope "quote"d" is not an RFC 6749 scope-token',
      'bad: scope "" is not an RFC 6749 scope-token',
      'bad: scope "bad:nodescription" needs a description',
    ]);
  });
});
