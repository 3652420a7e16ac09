import wick_module_that_does_not_exist  # noqa: F401  (the init error under test)


def handler(event, context):
    return "unreachable"
