// Handlers of the shared runtime conformance suite (tests/e2e/test_runtimes.py), Node.js side.
'use strict';

let initCount = 0;
let count = 0;
initCount += 1; // module code runs once per sandbox

class MyError extends Error {
  constructor(message) {
    super(message);
    this.name = 'MyError';
  }
}

exports.echo = async (event) => event;

exports.context = async (event, context) => ({
  function_name: context.functionName,
  function_version: context.functionVersion,
  invoked_function_arn: context.invokedFunctionArn,
  memory_limit_in_mb: context.memoryLimitInMB,
  aws_request_id: context.awsRequestId,
  log_group_name: context.logGroupName,
  log_stream_name: context.logStreamName,
  remaining_ms: context.getRemainingTimeInMillis(),
  client_context_custom: (context.clientContext && context.clientContext.custom) || null,
  identity: context.identity || null,
  has_callback_waits: typeof context.callbackWaitsForEmptyEventLoop === 'boolean',
});

exports.log = async (event) => {
  console.log(`print-line ${event.msg}`);
  console.info(`logged-line ${event.msg}`);
  return 'ok';
};

exports.fail = async (event) => {
  throw new MyError(event.msg);
};

exports.counter = async () => {
  count += 1;
  return { count, init_count: initCount };
};

exports.sleep = async (event, context) => {
  await new Promise((resolve) => setTimeout(resolve, event.ms));
  return { remaining_ms: context.getRemainingTimeInMillis() };
};

exports.returns_undefined = async () => undefined;

exports.unicode = async () => ({ text: 'héllo ☃' });
