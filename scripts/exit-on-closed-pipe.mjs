// Imported first by the CLI scripts. A reader that stops early (`npm run -s permissions | head`)
// closes the pipe: that ends the output, it is not an error, so exit quietly instead of crashing
// on an unhandled EPIPE.
for (const stream of [process.stdout, process.stderr]) {
  stream.on("error", (error) => {
    if (error.code === "EPIPE") process.exit(0);
    throw error;
  });
}
