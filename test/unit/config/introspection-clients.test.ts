import { createHash } from "node:crypto";
import { describe, expect, it } from "vitest";
import { ConfigError, loadConfig } from "../../../src/config/config.js";
import { withTempFile } from "../../support/temp-dir.js";

const sha = (secret: string) => createHash("sha256").update(secret).digest();

function problems(env: Record<string, string>): string[] {
  try {
    loadConfig(env);
    return [];
  } catch (error) {
    if (error instanceof ConfigError) return error.problems;
    throw error;
  }
}

describe("INTROSPECTION_CLIENTS", () => {
  it("keeps only the SHA-256 of each secret, from the variable and the file", () => {
    withTempFile(
      "clients",
      `# resource servers\n\nfiled:sha256:${sha("filed-secret-0123456").toString("hex")}\n`,
      (file) => {
        const config = loadConfig({
          INTROSPECTION_CLIENTS: "notes:notes-secret-0123456789",
          INTROSPECTION_CLIENTS_FILE: file,
        });
        expect(config.oauth.clients.map((c) => c.id)).toEqual(["notes", "filed"]);
        expect(config.oauth.clients[0]!.secretSha256.equals(sha("notes-secret-0123456789"))).toBe(true);
        expect(config.oauth.clients[1]!.secretSha256.equals(sha("filed-secret-0123456"))).toBe(true);
        expect(JSON.stringify(config)).not.toContain("notes-secret-0123456789");
      },
    );
  });

  it("names each bad entry: short secret, bad id, duplicate, unreadable file", () => {
    const found = problems({
      INTROSPECTION_CLIENTS:
        "a:short,bad id:long-enough-secret-1,b:long-enough-secret-2,b:long-enough-secret-3",
      INTROSPECTION_CLIENTS_FILE: "/no/such/file",
    });
    expect(found).toEqual([
      "INTROSPECTION_CLIENTS_FILE: cannot read /no/such/file",
      "INTROSPECTION_CLIENTS: the secret of a must be at least 16 characters",
      "INTROSPECTION_CLIENTS: each entry is id:secret with an id of letters, digits, . _ ~ -",
      "INTROSPECTION_CLIENTS: client b is listed twice",
    ]);
  });

  it("is empty by default: introspection refuses every caller", () => {
    expect(loadConfig({}).oauth.clients).toEqual([]);
  });
});
