import { describe, expect, it } from "vitest";
import { expectedHtu, loopbackOrigins } from "../../../src/auth/dpop/index.js";

describe("the htu a proof must name (RFC 9449 §4.3 item 9)", () => {
  it("is the configured URL alone without loopback aliases, named normalised as expected", () => {
    const htu = expectedHtu("http://LOCALHOST:4000/graphql");
    expect(htu.expected).toBe("http://localhost:4000/graphql");
    expect(htu.matches("http://localhost:4000/graphql?x=1")).toBe(true);
    for (const other of ["http://127.0.0.1:4000/graphql", "http://[::1]:4000/graphql"])
      expect(htu.matches(other), other).toBe(false);
  });

  it("accepts localhost, 127.0.0.1 and [::1] on the same scheme, port and path with loopback aliases", () => {
    for (const configured of ["http://localhost:4000/graphql", "http://127.0.0.1:4000/graphql"]) {
      const htu = expectedHtu(configured, { loopbackAliases: true });
      for (const alias of [
        "http://localhost:4000/graphql",
        "http://127.0.0.1:4000/graphql",
        "http://[::1]:4000/graphql",
        "http://[0:0:0:0:0:0:0:1]:4000/graphql",
      ])
        expect(htu.matches(alias), `${configured} ~ ${alias}`).toBe(true);
    }
  });

  it("still refuses another port, scheme, path or host with loopback aliases", () => {
    const htu = expectedHtu("http://localhost:4000/graphql", { loopbackAliases: true });
    for (const other of [
      "http://127.0.0.1:4001/graphql",
      "https://127.0.0.1:4000/graphql",
      "http://[::1]:4000/other",
      "http://127.0.0.2:4000/graphql",
      "http://localhost.example.com:4000/graphql",
      "http://example.com:4000/graphql",
      "not a url",
    ])
      expect(htu.matches(other), other).toBe(false);
  });

  it("adds no aliases when the configured host is not a loopback name", () => {
    const htu = expectedHtu("https://api.example.com/graphql", { loopbackAliases: true });
    expect(htu.matches("https://api.example.com/graphql")).toBe(true);
    expect(htu.matches("https://localhost/graphql")).toBe(false);
    expect(loopbackOrigins("https://api.example.com", { loopbackAliases: true })).toEqual([]);
  });

  it("lists the loopback origins for CORS only when aliases are on", () => {
    expect(loopbackOrigins("http://localhost:4000", { loopbackAliases: true })).toEqual([
      "http://localhost:4000",
      "http://127.0.0.1:4000",
      "http://[::1]:4000",
    ]);
    expect(loopbackOrigins("http://localhost:4000")).toEqual([]);
  });
});
