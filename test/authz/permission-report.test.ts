import { readFileSync } from "node:fs";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { ownerOr } from "../../src/authz/field-rule.js";
import {
  describeRule,
  permissionRows,
  permissionTable,
  withPermissionTable,
} from "../../src/authz/permission-report.js";
import { demoPermissions, demoSchema } from "../support/demo-modules.js";

const docPath = join(import.meta.dirname, "..", "..", "docs", "permissions.md");

describe("permission report", () => {
  it("docs/permissions.md holds the table generated from the map (run `npm run permissions -- --write`)", () => {
    const doc = readFileSync(docPath, "utf8");
    expect(withPermissionTable(doc, permissionTable(permissionRows(demoSchema, demoPermissions)))).toBe(doc);
  });

  it("lists every field once, with its scopes", () => {
    const rows = permissionRows(demoSchema, demoPermissions);
    expect(new Set(rows.map((r) => r.field)).size).toBe(rows.length);
    expect(rows.find((r) => r.field === "Note.body")).toEqual({
      field: "Note.body",
      rule: "owner with `notes:read`, or scope `notes:read:any`",
      checked: true,
      nullable: true,
    });
    expect(rows.find((r) => r.field === "Query.notes")?.rule).toBe("scope `notes:read` or `notes:read:any`");
  });

  it("detects a stale table", () => {
    const doc = readFileSync(docPath, "utf8");
    const stale = doc.replace("owner with `notes:read`, or scope `notes:read:any`", "public");
    expect(stale).not.toBe(doc);
    const fresh = withPermissionTable(stale, permissionTable(permissionRows(demoSchema, demoPermissions)));
    expect(fresh).not.toBe(stale);
    expect(fresh).toBe(doc);
  });

  it("words AND-groups and owner requirements", () => {
    expect(
      describeRule(
        ownerOr<{ by: string }>({
          label: "author",
          ownerId: (p) => p.by,
          anyOf: [["notes:read:any", "users:read:email"], ["keys:admin"]],
        }),
      ),
    ).toBe("author, or scope `notes:read:any` + `users:read:email` or `keys:admin`");
  });
});
