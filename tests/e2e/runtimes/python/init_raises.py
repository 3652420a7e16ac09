raise ValueError("raised while importing")


def handler(event, context):
    return "unreachable"
