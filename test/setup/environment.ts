/**
 * Runs in every jest worker before its test files (jest.config.js `setupFiles`).
 *
 * The AWS SDK warns once per process that its releases after January 2027 need Node.js 22; on Node.js 20
 * every worker and every child process the tests start prints that notice, dozens of times per run. The
 * SDK's own switch turns off only that notice (every other warning still prints); child processes
 * inherit it through the environment. The README states the Node.js versions the project supports.
 */
process.env.AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED = 'true';
