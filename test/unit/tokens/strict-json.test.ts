import { describe, expect, it } from "vitest";
import { isStrictJsonObject } from "../../../src/auth/tokens/strict-json.js";

describe("isStrictJsonObject", () => {
  it("accepts what JSON.stringify writes for objects", () => {
    const values = [{}, { a: 1 }, { a: [1, { b: "x" }], c: null, d: true, e: -1.5e3, f: '\u00e9\n"' }];
    for (const v of values) expect(isStrictJsonObject(JSON.stringify(v))).toBe(true);
    expect(isStrictJsonObject(' { "a" : [ ] , "b" : { } } ')).toBe(true);
  });

  it("refuses repeated member names at any depth, compared after unescaping", () => {
    expect(isStrictJsonObject('{"sub":"a","sub":"b"}')).toBe(false);
    expect(isStrictJsonObject('{"sub":"a","\\u0073ub":"b"}')).toBe(false);
    expect(isStrictJsonObject('{"cnf":{"jkt":"a","jkt":"b"}}')).toBe(false);
    expect(isStrictJsonObject('{"x":[{"a":1,"a":2}]}')).toBe(false);
    expect(isStrictJsonObject('{"a":{"k":1},"b":{"k":1}}')).toBe(true);
  });

  it("refuses anything that is not exactly one JSON object", () => {
    const bad = [
      "",
      "[]",
      '"s"',
      "1",
      "null",
      "{",
      "{}}",
      "{} {}",
      "{'a':1}",
      '{"a":01}',
      '{"a":1,}',
      '{"a" 1}',
      '{"a":"\u0001"}',
      '{"a":"\\x"}',
      '{"a":tru}',
      '{"a":NaN}',
      '{"a":"unterminated}',
      '{"a":"\\',
    ];
    for (const text of bad) expect(isStrictJsonObject(text), text).toBe(false);
  });

  it("refuses nesting deeper than the limit instead of recursing without bound", () => {
    expect(isStrictJsonObject(`{"a":${"[".repeat(100_000)}`)).toBe(false);
    expect(isStrictJsonObject(`{"a":${"[".repeat(10)}${"]".repeat(10)}}`)).toBe(true);
  });
});
