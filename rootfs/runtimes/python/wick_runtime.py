"""wick's runtime interface client for Python 3.11 (standard library only).

Started by `bootstrap` beside this file. It loads the handler named by _HANDLER (or by the
bootstrap's first argument), then serves invocations from the Runtime API
(lambda-contract.md 1) over one keep-alive connection, the way AWS's Python runtime does:
same context object, same error bodies, same init error types (1.5), same log format.

Start-up time is the cold start, so this module imports only what every invocation needs:
no `json` (the `_json` accelerator is used directly), no `socket` (`_socket`), no `logging`
(Lambda's root handler is installed when user code first imports logging), no `traceback`
(only on errors), and no `site` (python -S; it is loaded the first time an import finds
nothing on the Lambda path). Check with `python3.11 -X importtime`.

Response streaming: as on Lambda, Python has no managed streaming (no `streamifyResponse`);
a handler's return value is the whole response. A Python function that must stream posts its
response itself with `Lambda-Runtime-Function-Response-Mode: streaming` (a custom runtime, or
the Lambda Web Adapter), which wick passes on as it comes (lambda-contract.md 1.6).
"""
import _json
import _socket
import os
import sys
import time

from _frozen_importlib_external import PathFinder

API_PREFIX = "/2018-06-01/runtime/"

# The invocation in progress: its id tags log records (LambdaLoggerFilter in AWS's client).
_request_id = ""


class Fault(Exception):
    """An error the runtime itself reports, with a Runtime.* type (lambda-contract.md 1.5)."""

    def __init__(self, error_type, message, trace=None):
        super().__init__(message)
        self.error_type = error_type
        self.message = message
        self.trace = trace or []


class RuntimeApiError(Exception):
    """The Runtime API could not be reached or answered nonsense: the runtime exits."""


class RuntimeApiStatus(RuntimeApiError):
    """The Runtime API refused a request with an error status."""


# ---------------------------------------------------------------------------------------
# JSON through the C accelerator (the json package would pull in re, enum and more).


class _DecoderSettings:
    """What _json.make_scanner reads: json.loads' defaults."""

    strict = True
    object_hook = None
    object_pairs_hook = None
    parse_float = float
    parse_int = int
    parse_constant = {"NaN": float("nan"), "Infinity": float("inf"),
                      "-Infinity": float("-inf")}.__getitem__


_scan = _json.make_scanner(_DecoderSettings)
_JSON_SPACE = " \t\n\r"


def json_loads(data):
    """json.loads(data) for the common case; json.loads itself for anything odd, so that
    errors carry the standard messages."""
    try:
        text = data.decode("utf-8")
        start = len(text) - len(text.lstrip(_JSON_SPACE))
        value, end = _scan(text, start)
        if not text[end:].strip(_JSON_SPACE):
            return value
    except (UnicodeDecodeError, ValueError, StopIteration):
        pass
    import json

    return json.loads(data)


def _encode_default(value):
    # Decimals (DynamoDB gives them) become numbers, as AWS's marshaller does.
    decimal = sys.modules.get("decimal")
    if decimal is not None and isinstance(value, decimal.Decimal):
        integral = value.is_finite() and value == value.to_integral_value()
        return int(value) if integral else float(value)
    raise TypeError(f"Object of type {value.__class__.__name__} is not JSON serializable")


def json_dumps(value):
    """json.dumps(value) with AWS's python3.11 settings (ASCII output, NaN allowed)."""
    # A fresh encoder each time: a failed encoding can leave its circular-reference marks.
    encode = _json.make_encoder({}, _encode_default, _json.encode_basestring_ascii, None,
                                ": ", ", ", False, False, True)
    return "".join(encode(value, 0))


# ---------------------------------------------------------------------------------------
# The Runtime API: HTTP/1.1 over one keep-alive TCP connection.


class RuntimeApi:
    def __init__(self, address):
        host, _, port = address.rpartition(":")
        self._host = address
        self._address = (host.strip("[]"), int(port))
        self._family = _socket.AF_INET6 if ":" in host else _socket.AF_INET
        self._socket = None
        self._buffer = b""

    def next(self):
        status, headers, body = self._request("GET", "invocation/next")
        if status != 200:
            raise RuntimeApiStatus(f"GET invocation/next answered {status}: {body[:1000]!r}")
        return headers, body

    def post(self, path, body, headers=""):
        status, _, answer = self._request("POST", path, body, headers)
        if status != 202:
            raise RuntimeApiStatus(f"POST {path} answered {status}: {answer[:1000]!r}")

    def _request(self, method, path, body=b"", headers=""):
        head = f"{method} {API_PREFIX}{path} HTTP/1.1\r\nHost: {self._host}\r\n{headers}"
        if method == "POST":
            head += f"Content-Length: {len(body)}\r\n"
        message = (head + "\r\n").encode("latin-1") + body
        if self._socket is not None:
            try:
                return self._exchange(message)
            except (OSError, RuntimeApiError):
                self._close()  # the kept connection is gone: once more on a new one
        self._connect()
        try:
            return self._exchange(message)
        except BaseException:
            self._close()
            raise

    def _exchange(self, message):
        self._socket.sendall(message)
        return self._response()

    def _connect(self):
        sock = _socket.socket(self._family, _socket.SOCK_STREAM)
        try:
            sock.setsockopt(_socket.IPPROTO_TCP, _socket.TCP_NODELAY, 1)
            sock.connect(self._address)
        except OSError:
            sock.close()
            raise
        self._socket = sock
        self._buffer = b""

    def _close(self):
        if self._socket is not None:
            self._socket.close()
            self._socket = None
        self._buffer = b""

    def _response(self):
        buffer = self._buffer
        while (end := buffer.find(b"\r\n\r\n")) < 0:
            chunk = self._socket.recv(65536)
            if not chunk:
                raise RuntimeApiError("the Runtime API closed the connection")
            buffer += chunk
        lines = buffer[:end].decode("latin-1").split("\r\n")
        status = int(lines[0].split(" ", 2)[1])
        headers = {}
        for line in lines[1:]:
            name, _, value = line.partition(":")
            headers[name.strip().lower()] = value.strip()
        if "transfer-encoding" in headers:
            raise RuntimeApiError("chunked responses from the Runtime API are not supported")
        length = int(headers.get("content-length", "0"))
        start = end + 4
        received = buffer[start:start + length]
        body = bytearray(length)
        body[:len(received)] = received
        done = len(received)
        self._buffer = buffer[start + length:]
        view = memoryview(body)
        while done < length:
            received = self._socket.recv_into(view[done:])
            if not received:
                raise RuntimeApiError("the Runtime API closed the connection mid-body")
            done += received
        if headers.get("connection", "").lower() == "close":
            self._close()
        return status, headers, bytes(body)


# ---------------------------------------------------------------------------------------
# The context object (same attributes as AWS's LambdaContext).


class CognitoIdentity:
    __slots__ = ("cognito_identity_id", "cognito_identity_pool_id")

    def __init__(self, identity):
        self.cognito_identity_id = identity.get("cognitoIdentityId")
        self.cognito_identity_pool_id = identity.get("cognitoIdentityPoolId")

    def __repr__(self):
        return (f"CognitoIdentity([cognito_identity_id={self.cognito_identity_id},"
                f"cognito_identity_pool_id={self.cognito_identity_pool_id}])")


class Client:
    __slots__ = ("installation_id", "app_title", "app_version_name", "app_version_code",
                 "app_package_name")

    def __init__(self, client):
        for field in self.__slots__:
            setattr(self, field, client.get(field))

    def __repr__(self):
        fields = ",".join(f"{field}={getattr(self, field)}" for field in self.__slots__)
        return f"Client([{fields}])"


class ClientContext:
    __slots__ = ("custom", "env", "client")

    def __init__(self, context):
        self.custom = context.get("custom")
        self.env = context.get("env")
        client = context.get("client")
        self.client = Client(client) if isinstance(client, dict) else client

    def __repr__(self):
        return f"ClientContext([custom={self.custom},env={self.env},client={self.client}])"


def _header_json(text, name):
    try:
        value = json_loads(text.encode("latin-1"))  # the header's bytes, as received
    except ValueError as error:
        raise Fault("Runtime.LambdaContextUnmarshalError",
                    f"Unable to parse {name} JSON: {error}") from None
    if not isinstance(value, dict):
        raise Fault("Runtime.LambdaContextUnmarshalError", f"{name} JSON is not an object")
    return value


class LambdaContext:
    def __init__(self, request_id, headers):
        env = os.environ
        self.aws_request_id = request_id
        self.log_group_name = env.get("AWS_LAMBDA_LOG_GROUP_NAME")
        self.log_stream_name = env.get("AWS_LAMBDA_LOG_STREAM_NAME")
        self.function_name = env.get("AWS_LAMBDA_FUNCTION_NAME")
        self.memory_limit_in_mb = env.get("AWS_LAMBDA_FUNCTION_MEMORY_SIZE")  # a string, as on AWS
        self.function_version = env.get("AWS_LAMBDA_FUNCTION_VERSION")
        self.invoked_function_arn = headers.get("lambda-runtime-invoked-function-arn")
        self.tenant_id = headers.get("lambda-runtime-aws-tenant-id")
        client_context = headers.get("lambda-runtime-client-context")
        self.client_context = (ClientContext(_header_json(client_context, "Client Context"))
                               if client_context else None)
        cognito = headers.get("lambda-runtime-cognito-identity")
        # Always an object, empty without Cognito, as in AWS's client.
        self.identity = CognitoIdentity(
            _header_json(cognito, "Cognito Identity") if cognito else {})
        self._deadline_ms = int(headers["lambda-runtime-deadline-ms"])

    def get_remaining_time_in_millis(self):
        return max(self._deadline_ms - int(time.time() * 1000), 0)

    def log(self, message):
        sys.stdout.write(str(message))

    def __repr__(self):
        return (f"LambdaContext([aws_request_id={self.aws_request_id},"
                f"log_group_name={self.log_group_name},log_stream_name={self.log_stream_name},"
                f"function_name={self.function_name},memory_limit_in_mb={self.memory_limit_in_mb},"
                f"function_version={self.function_version},"
                f"invoked_function_arn={self.invoked_function_arn},"
                f"client_context={self.client_context},identity={self.identity},"
                f"tenant_id={self.tenant_id}])")


# ---------------------------------------------------------------------------------------
# Logging: the root logger gets Lambda's handler and format, installed when logging is
# first imported (by user code), so a function that never logs never pays for it.


def _setup_logging(logging):
    class LambdaLoggerFilter(logging.Filter):
        def filter(self, record):
            record.aws_request_id = _request_id
            return True

    class LambdaLoggerHandler(logging.Handler):
        def emit(self, record):
            try:
                sys.stdout.write(self.format(record))
            except Exception:
                self.handleError(record)

    logging.Formatter.converter = time.gmtime
    handler = LambdaLoggerHandler()
    handler.setFormatter(logging.Formatter(
        "[%(levelname)s]\t%(asctime)s.%(msecs)03dZ\t%(aws_request_id)s\t%(message)s\n",
        "%Y-%m-%dT%H:%M:%S"))
    handler.addFilter(LambdaLoggerFilter())
    root = logging.getLogger()
    level = os.environ.get("AWS_LAMBDA_LOG_LEVEL", "").upper()
    if level in logging._nameToLevel:
        root.setLevel(level)
    root.addHandler(handler)


class _LoggingImportHook:
    """First on sys.meta_path until `logging` is imported; then sets it up, and leaves."""

    @classmethod
    def find_spec(cls, name, path=None, target=None):
        if name != "logging":
            return None
        sys.meta_path.remove(cls)
        spec = PathFinder.find_spec(name, path, target)
        if spec is None or not hasattr(spec.loader, "exec_module"):
            return spec
        execute = spec.loader.exec_module

        def exec_module(module):
            execute(module)
            if hasattr(module, "Handler"):  # the standard library's, not a user's logging.py
                _setup_logging(module)

        spec.loader.exec_module = exec_module
        return spec


class _LazySite:
    """Last on sys.meta_path: runs `site` (skipped by python -S) the first time a top-level
    import is found nowhere else, then looks again. The site-packages directories come
    after the function's code, its layers and the standard library, as with site."""

    @classmethod
    def find_spec(cls, name, path=None, target=None):
        if path is not None:
            return None
        sys.meta_path.remove(cls)
        import site

        site.main()
        return PathFinder.find_spec(name, None, target)


# ---------------------------------------------------------------------------------------
# Errors as AWS's Python runtime reports them.


def make_error(message, error_type, stack_trace, request_id=""):
    return {"errorMessage": message or "", "errorType": error_type or "",
            "requestId": request_id, "stackTrace": stack_trace or []}


def exception_error(error, request_id=""):
    """The error body of an exception, its traceback starting at the first user frame."""
    import traceback

    frames = [(f.filename, f.lineno, f.name, f.line)
              for f in traceback.extract_tb(error.__traceback__)]
    while frames and frames[0][0] == __file__:
        del frames[0]
    return make_error(str(error), type(error).__name__, traceback.format_list(frames), request_id)


def log_error(error):
    """`[ERROR] Type: message` and the traceback as one log line, lines joined by \\r and
    indented with no-break spaces, as Lambda's text log shows them."""
    description = "[ERROR]"
    if error["errorType"]:
        description += " " + error["errorType"] + (":" if error["errorMessage"] else "")
    if error["errorMessage"]:
        description += " " + error["errorMessage"]
    lines = [description, "Traceback (most recent call last):"]
    for element in error["stackTrace"]:
        for line in element.splitlines() or [""]:
            stripped = line.lstrip(" ")
            lines.append("\u00a0" * (len(line) - len(stripped)) + stripped)
    sys.stdout.write("\r".join(lines) + "\n")


def _error_type_header(error_type):
    # Metadata for the platform (lambda-contract.md 1.4): the body carries the real type.
    safe = "".join(c for c in error_type if c.isascii() and (c.isalnum() or c in "._-"))
    return f"Lambda-Runtime-Function-Error-Type: {safe or 'Runtime.Unknown'}\r\n"


# ---------------------------------------------------------------------------------------
# Init and the invocation loop.


def set_sys_path():
    """Lambda's order: the function's code, its layers' python directories, then the
    runtime's own path (this directory, PYTHONPATH, the standard library)."""
    version = f"python{sys.version_info[0]}.{sys.version_info[1]}"
    first = [os.environ.get("LAMBDA_TASK_ROOT") or "/var/task",
             f"/opt/python/lib/{version}/site-packages", "/opt/python"]
    sys.path[:] = first + [entry for entry in dict.fromkeys(sys.path) if entry not in first]


def load_handler(name):
    module_name, dot, function_name = name.rpartition(".")
    if not dot:
        raise Fault("Runtime.MalformedHandlerName",
                    f"Bad handler '{name}': not enough values to unpack (expected 2, got 1)")
    if module_name.split(".")[0] in sys.builtin_module_names:
        raise Fault("Runtime.BuiltInModuleConflict",
                    f"Cannot use built-in module {module_name} as a handler module")
    dotted = module_name.replace("/", ".")
    try:
        __import__(dotted)
        module = sys.modules[dotted]
    except ImportError as error:
        raise Fault("Runtime.ImportModuleError",
                    f"Unable to import module '{module_name}': {error}") from None
    except SyntaxError as error:
        raise Fault("Runtime.UserCodeSyntaxError",
                    f"Syntax error in module '{module_name}': {error}",
                    [f'  File "{error.filename}" Line {error.lineno}\n    {error.text}']) from None
    try:
        return getattr(module, function_name)
    except AttributeError:
        raise Fault("Runtime.HandlerNotFound",
                    f"Handler '{function_name}' missing on module '{module_name}'") from None


def decode_event(body, content_type):
    if content_type not in (None, "application/json"):
        return body
    try:
        return json_loads(body)
    except ValueError as error:
        raise Fault("Runtime.UnmarshalError", f"Unable to unmarshal input: {error}") from None


def encode_result(result):
    if isinstance(result, bytes):
        return result, "application/unknown"
    try:
        return json_dumps(result).encode("utf-8"), "application/json"
    except Exception as error:
        raise Fault("Runtime.MarshalError", f"Unable to marshal response: {error}") from None


def handle(api, handler, headers, body):
    global _request_id
    request_id = headers.get("lambda-runtime-aws-request-id")
    if not request_id:
        raise RuntimeApiError("invocation without Lambda-Runtime-Aws-Request-Id")
    _request_id = request_id
    trace_id = headers.get("lambda-runtime-trace-id")
    if trace_id:
        os.environ["_X_AMZN_TRACE_ID"] = trace_id
    else:
        os.environ.pop("_X_AMZN_TRACE_ID", None)
    try:
        context = LambdaContext(request_id, headers)
        result = handler(decode_event(body, headers.get("content-type")), context)
        payload, content_type = encode_result(result)
    except Fault as fault:
        error = make_error(fault.message, fault.error_type, fault.trace, request_id)
    except Exception as exception:
        error = exception_error(exception, request_id)
    else:
        error = None
    try:
        if error is None:
            api.post(f"invocation/{request_id}/response", payload,
                     f"Content-Type: {content_type}\r\n")
        else:
            log_error(error)
            api.post(f"invocation/{request_id}/error", json_dumps(error).encode("utf-8"),
                     "Content-Type: application/json\r\n" + _error_type_header(error["errorType"]))
    except RuntimeApiStatus as refused:
        # E.g. 413 for a response over 6 MB: the platform fails this invocation itself and
        # the connection survives, so the runtime goes on to the next one.
        sys.stderr.write(f"wick runtime: {refused}\n")


def main():
    handler_name = sys.argv[2] if len(sys.argv) > 2 else os.environ.get("_HANDLER", "")
    sys.argv = [__file__]
    set_sys_path()
    sys.meta_path.insert(0, _LoggingImportHook)
    sys.meta_path.append(_LazySite)
    api = RuntimeApi(os.environ["AWS_LAMBDA_RUNTIME_API"])

    try:
        handler = load_handler(handler_name)
    except Fault as fault:
        error = make_error(fault.message, fault.error_type, fault.trace)
    except Exception as exception:
        error = exception_error(exception)
    else:
        error = None
    if error is not None:
        log_error(error)
        api.post("init/error", json_dumps(error).encode("utf-8"),
                 "Content-Type: application/json\r\n" + _error_type_header(error["errorType"]))
        sys.exit(1)

    while True:
        headers, body = api.next()
        handle(api, handler, headers, body)
