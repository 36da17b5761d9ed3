// Monaco (GraphiQL 5's editor) runs language services in web workers. GraphiQL's own setup files
// load them from esm.sh or through a bundler's `new URL(…, import.meta.url)`; here they are bundled
// by the server beside the page (src/server/ide/build-ide-assets.ts) and loaded from this origin, so
// the IDE works offline and the CSP can say `worker-src 'self'`.

const workers: Record<string, string> = {
  json: "/ide/json.worker.js",
  graphql: "/ide/graphql.worker.js",
};

(globalThis as { MonacoEnvironment?: unknown }).MonacoEnvironment = {
  getWorker(_workerId: string, label: string): Worker {
    return new Worker(workers[label] ?? "/ide/editor.worker.js", { name: label });
  },
};
