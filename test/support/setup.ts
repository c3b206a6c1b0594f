// Loaded by mocha before the suite (.mocharc.json `require`).
process.on('unhandledRejection', (reason) => {
  console.error('Unhandled rejection in tests:', reason);
  process.exitCode = 1;
});
