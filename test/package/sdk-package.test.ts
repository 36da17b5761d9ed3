// The SDK as a user gets it: build packages/sdk, `npm pack` it, install the tarball into an empty
// project, import every entry from Node, type-check a small consumer with tsc, and bundle the browser
// entry with esbuild into a page that signs in against a real Holdfast in Chromium.
import { execFile } from "node:child_process";
import { mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { createRequire } from "node:module";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { promisify } from "node:util";
import { build } from "esbuild";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { useChromiumAndDemo } from "../browser/support/demo-harness.js";
import { freePort } from "../support/free-port.js";
import { fencedBlocks } from "../support/markdown-blocks.js";
import { startTestServer, type TestServer } from "../support/test-server.js";

const run = promisify(execFile);
const ROOT = fileURLToPath(new URL("../..", import.meta.url));
const SDK = join(ROOT, "packages/sdk");
const TSC = createRequire(import.meta.url).resolve("typescript/bin/tsc");

let work: string;
let project: string;
let tarball: string;
let installWarnings = "";

beforeAll(async () => {
  work = mkdtempSync(join(tmpdir(), "holdfast-sdk-"));
  await run(process.execPath, [join(ROOT, "scripts/build-sdk.mjs")], { cwd: ROOT });
  const { stdout } = await run("npm", ["pack", "--json", "--pack-destination", work], { cwd: SDK });
  tarball = join(work, (JSON.parse(stdout) as { filename: string }[])[0]!.filename);
  project = join(work, "consumer");
  await run("mkdir", ["-p", project]);
  writeFileSync(
    join(project, "package.json"),
    JSON.stringify({ name: "consumer", private: true, type: "module" }, null, 2),
  );
  // The registry is reachable; jose is usually in npm's cache already, so this stays quick.
  const installed = await run(
    "npm",
    ["install", tarball, "--prefer-offline", "--no-audit", "--no-fund", "--loglevel=warn"],
    { cwd: project, timeout: 180_000 },
  );
  installWarnings = installed.stderr;
}, 240_000);

afterAll(() => {
  if (work) rmSync(work, { recursive: true, force: true });
});

describe("the @holdfast/sdk package", () => {
  it("ships compiled JS and .d.ts only: no sources, tests or benches", async () => {
    const { stdout } = await run("tar", ["-tzf", tarball]);
    const files = stdout.trim().split("\n");
    expect(files).toContain("package/dist/client/index.js");
    expect(files).toContain("package/dist/client/index.d.ts");
    expect(files).toContain("package/dist/client/browser.js");
    expect(files).toContain("package/dist/resource-server/index.js");
    expect(files).toContain("package/dist/resource-server/index.d.ts");
    expect(files).toContain("package/LICENSE");
    const unexpected = files.filter(
      (f) => !/^package\/(package\.json|README\.md|LICENSE|dist\/.+\.(js|d\.ts))$/.test(f),
    );
    expect(unexpected).toEqual([]);
  });

  it("installs without the server: only jose, graphql-ws (with its graphql peer) and @simplewebauthn/browser come along, and nothing runs a script", () => {
    const installed = readdirSync(join(project, "node_modules")).filter((n) => !n.startsWith("."));
    // graphql-ws carries subscribe(), graphql is its peer; @simplewebauthn/browser the browser
    // entry's passkey ceremonies. All plain JavaScript without install scripts.
    expect(installed.sort()).toEqual(["@holdfast", "@simplewebauthn", "graphql", "graphql-ws", "jose"]);
    const manifest = JSON.parse(
      readFileSync(join(project, "node_modules/@holdfast/sdk/package.json"), "utf8"),
    ) as { scripts?: Record<string, string> };
    for (const hook of ["preinstall", "install", "postinstall", "prepare"])
      expect(manifest.scripts?.[hook]).toBeUndefined();
    // `engines` is the truth for what is installed: no EBADENGINE on this Node.
    expect(installWarnings).not.toMatch(/EBADENGINE/);
  });

  it("imports every entry from Node", async () => {
    const script = `
      const client = await import("@holdfast/sdk/client");
      const browser = await import("@holdfast/sdk/browser");
      const rs = await import("@holdfast/sdk/resource-server");
      console.log(JSON.stringify({
        client: typeof client.createHoldfastClient,
        me: typeof client.MeDocument.query,
        browser: typeof browser.createIndexedDbDpopKeyStore,
        rs: typeof rs.createResourceServerVerifier,
        error: typeof rs.ResourceServerError,
      }));`;
    const { stdout } = await run(process.execPath, ["--input-type=module", "-e", script], { cwd: project });
    expect(JSON.parse(stdout)).toEqual({
      client: "function",
      me: "string",
      browser: "function",
      rs: "function",
      error: "function",
    });
  });

  it("type-checks a consumer with tsc (strict, NodeNext), and catches a misuse", async () => {
    writeFileSync(
      join(project, "tsconfig.json"),
      JSON.stringify({
        compilerOptions: {
          target: "ES2022",
          module: "NodeNext",
          moduleResolution: "NodeNext",
          strict: true,
          noEmit: true,
          lib: ["ES2022", "DOM"],
          types: [],
          skipLibCheck: false,
        },
        include: ["consumer.ts"],
      }),
    );
    const good = `
      import { createHoldfastClient, createMemoryRefreshTokenStore, MeDocument } from "@holdfast/sdk/client";
      import { createHoldfastClient as browserClient } from "@holdfast/sdk/browser";
      import { createResourceServerVerifier, ResourceServerError } from "@holdfast/sdk/resource-server";
      const client = createHoldfastClient({ baseUrl: "http://localhost:4000", refreshTokenStore: createMemoryRefreshTokenStore() });
      export async function main(): Promise<string | undefined> {
        await client.login({ email: "a@example.com", password: "pw" });
        const { data: { me }, errors } = await client.request(MeDocument);
        if (errors) return errors[0]?.extensions?.code;
        const verifier = createResourceServerVerifier({ issuer: "http://localhost:4000", audience: "holdfast" });
        try {
          const access = await verifier.verify({ authorization: "Bearer x", method: "GET", url: "http://x/y" });
          return access.userId;
        } catch (error) {
          if (error instanceof ResourceServerError) return error.reason;
        }
        browserClient({ baseUrl: "/" });
        return me?.displayName;
      }`;
    writeFileSync(join(project, "consumer.ts"), good);
    await run(process.execPath, [TSC, "-p", "tsconfig.json"], { cwd: project });

    writeFileSync(
      join(project, "consumer.ts"),
      `${good}\nclient.request(MeDocument, { notAVariable: 1 });\n`,
    );
    const failed = await run(process.execPath, [TSC, "-p", "tsconfig.json"], { cwd: project }).then(
      () => null,
      (error: { stdout: string }) => error.stdout,
    );
    expect(failed).toMatch(/consumer\.ts\(\d+,\d+\): error TS/);
  }, 60_000);

  describe("the browser entry, bundled with esbuild", () => {
    const { browser, demo } = useChromiumAndDemo();

    it("signs in against a real server in Chromium, with a DPoP-bound token", async () => {
      writeFileSync(
        join(project, "page.js"),
        `import { createHoldfastClient, MeDocument } from "@holdfast/sdk/browser";
         const client = createHoldfastClient({ baseUrl: location.origin });
         window.signIn = async (email, password) => {
           await client.register({ email, password, displayName: "Packed" });
           await client.logout();
           await client.login({ email, password });
           const { data: { me } } = await client.request(MeDocument);
           return { email: me.email, state: client.state(), dpop: client.state().authenticated };
         };`,
      );
      const bundle = await build({
        entryPoints: [join(project, "page.js")],
        absWorkingDir: project,
        bundle: true,
        format: "esm",
        platform: "browser",
        write: false,
      });
      const script = bundle.outputFiles[0]!.text;
      expect(script).not.toMatch(/node:crypto|from "ioredis"/);

      const context = await browser.newContext();
      try {
        // Served from the API's own origin, as an app would be (same-site cookies, no CORS).
        await context.route(`${demo.origin}/sdk-page/**`, (route) =>
          route.fulfill(
            route.request().url().endsWith(".js")
              ? { contentType: "text/javascript", body: script }
              : {
                  contentType: "text/html",
                  body: '<!doctype html><script type="module" src="/sdk-page/page.js"></script>',
                },
          ),
        );
        const page = await context.newPage();
        await page.goto(`${demo.origin}/sdk-page/index.html`);
        await page.waitForFunction(() => typeof (window as { signIn?: unknown }).signIn === "function");
        const email = `packed-${Date.now()}@example.com`;
        const result = await page.evaluate(
          ([e, p]) =>
            (window as unknown as { signIn: (e: string, p: string) => Promise<unknown> }).signIn(e!, p!),
          [email, "correct horse battery staple"],
        );
        expect(result).toMatchObject({ email, state: { authenticated: true } });
        const session = await demo.database.prisma.session.findFirst({
          where: { user: { email }, revokedAt: null },
        });
        // The page's key (WebCrypto, IndexedDB) bound the session: a copied token alone is useless.
        expect(session?.jkt).toEqual(expect.any(String));
      } finally {
        await context.close();
      }
    }, 60_000);
  });
});

describe("the Node example that opens the package's README", () => {
  let t: TestServer | undefined;
  let base: string;
  beforeAll(async () => {
    const port = await freePort();
    base = `http://127.0.0.1:${port}`;
    t = await startTestServer({ PUBLIC_URL: base, RATE_LIMIT_REGISTER_PER_IP_PER_HOUR: "1000000" });
    await t.server.app.listen({ host: "127.0.0.1", port });
    // The example's one extra install, as its README says (`npm install @holdfast/sdk ws`).
    await run("npm", ["install", "ws", "--prefer-offline", "--no-audit", "--no-fund", "--loglevel=warn"], {
      cwd: project,
      timeout: 180_000,
    });
  }, 240_000);
  afterAll(() => t?.close());

  it("runs as shipped against a real server: signs in, reads, subscribes, logs out and the subscription completes", async () => {
    // The README inside the installed package: the code a user copies is the code that runs here.
    const shipped = readFileSync(join(project, "node_modules/@holdfast/sdk/README.md"), "utf8");
    const [example] = fencedBlocks(shipped, ["js"]);
    writeFileSync(join(project, "example.mjs"), example!.code);
    const { stdout } = await run(process.execPath, ["example.mjs"], {
      cwd: project,
      env: { ...process.env, HOLDFAST_URL: base },
      timeout: 60_000,
    });
    expect(stdout).toMatch(/^signed in as reader-\d+@example\.com $/m);
    expect(stdout).toMatch(/^live event: (CREATED Hello|none yet)/m);
    expect(stdout).toMatch(/^logged out; subscription completed$/m);
    expect(stdout).not.toMatch(/session lost/);
  }, 90_000);
});
