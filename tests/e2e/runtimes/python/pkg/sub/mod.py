# A module in namespace packages (no __init__.py), named by the handler `pkg/sub/mod.handler`.
def handler(event, context):
    return {"nested": True}
