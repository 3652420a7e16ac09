def handler(event, context):
    return "unreachable"


def broken(:
    pass
