"""Handlers of the runtime conformance suite (tests/e2e/test_runtimes.py), Python side.
The same handlers exist in ../nodejs/app.js (returns_none there is returns_undefined);
unserialisable, environment and big are Python-only."""
import logging
import os
import sys
import time

# As in AWS's examples: Lambda's root logger is at WARNING unless told otherwise.
logging.getLogger().setLevel(logging.INFO)

init_count = 0
count = 0
init_count += 1  # module-level code: once per execution environment


class MyError(Exception):
    pass


def echo(event, context):
    return event


def context(event, context):
    identity = context.identity
    return {
        "function_name": context.function_name,
        "function_version": context.function_version,
        "invoked_function_arn": context.invoked_function_arn,
        "memory_limit_in_mb": context.memory_limit_in_mb,
        "aws_request_id": context.aws_request_id,
        "log_group_name": context.log_group_name,
        "log_stream_name": context.log_stream_name,
        "remaining_ms": context.get_remaining_time_in_millis(),
        "client_context_custom": context.client_context.custom if context.client_context else None,
        "identity": None if identity is None else {
            "cognito_identity_id": identity.cognito_identity_id,
            "cognito_identity_pool_id": identity.cognito_identity_pool_id,
        },
        "has_callback_waits": True,
    }


def log(event, context):
    print("print-line", event["msg"])
    logging.getLogger().info("logged-line %s", event["msg"])
    return "ok"


def fail(event, context):
    raise MyError(event["msg"])


def counter(event, context):
    global count
    count += 1
    return {"count": count, "init_count": init_count}


def sleep(event, context):
    time.sleep(event["ms"] / 1000)
    return {"remaining_ms": context.get_remaining_time_in_millis()}


def returns_none(event, context):
    return None


def unicode(event, context):
    return {"text": "héllo ☃"}


def unserialisable(event, context):
    return {"a set": {1, 2}}


def environment(event, context):
    return {
        "trace_id": os.environ.get("_X_AMZN_TRACE_ID"),
        "sys_path": sys.path[:4],
        "cwd": os.getcwd(),
        "stdout_encoding": sys.stdout.encoding,
        "uid": os.getuid(),
        "wrapped_by": os.environ.get("WRAPPED_BY"),
    }


def big(event, context):
    return "x" * event["bytes"]
