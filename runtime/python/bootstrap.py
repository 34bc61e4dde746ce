"""Gantry's Python runtime client for Lambda.

Gantry runs this file as /var/runtime/bootstrap.py inside a function's sandbox. It speaks the
AWS Lambda Runtime API (http://$AWS_LAMBDA_RUNTIME_API/2018-06-01/runtime/...): import the
handler named by _HANDLER (or the first argument) from $LAMBDA_TASK_ROOT once, then loop forever fetching an event from
/invocation/next, calling the handler and posting its result or error. Error bodies, error
types and log lines copy AWS's own Python runtime (awslambdaric) so functions and their callers
see what they would see on Lambda.

Gantry-specific: after every invocation, and once after the handler was imported, a sentinel
line starting with the ASCII record separator (0x1e) is written straight to fd 1:

    \\x1egantry-init-end\\n
    \\x1egantry-invocation-end <request id>\\n

Gantry reads the sandbox's output as the function's log. The sentinel tells it that every line
the invocation printed has arrived, so it can write the END/REPORT lines after them; Gantry
strips it from the log. It is written before the result is posted, so it is always in the pipe
before Gantry learns that the invocation finished.

Standard library only, Python 3.9+: the sandbox's Python may have nothing else installed.
"""

import decimal
import http.client
import importlib
import io
import json
import logging
import os
import sys
import time
import traceback

API_PATH = "/2018-06-01/runtime"
# /next is retried this many times, this many seconds apart, before the runtime gives up.
NEXT_ATTEMPTS = 5
RETRY_DELAY_S = 0.2

_request_id = ""  # the current invocation's id, for the log lines of the logging module


class Fault(Exception):
    """An error with a Lambda errorType of its own (Runtime.*), reported without a traceback of
    the runtime's frames."""

    def __init__(self, error_type, message, trace=None):
        super().__init__(message)
        self.error_type, self.message, self.trace = error_type, message, trace or []


# --- Output ---------------------------------------------------------------------------------


class _FlushingWriter(io.TextIOWrapper):
    """A text stream that flushes after every write, like awslambdaric's Unbuffered: output must
    not sit in a buffer when the sandbox is frozen or killed, and stdout/stderr writes must
    reach the shared pipe in the order they were made."""

    def write(self, s):
        n = super().write(s)
        self.flush()
        return n


def _writer(fd):
    raw = open(fd, "wb", closefd=False)
    return _FlushingWriter(raw, encoding="utf-8", errors="backslashreplace", line_buffering=True)


def setup_output():
    # One stream for everything: Gantry reads fd 1 only, and lines written to two pipes could
    # not be put back in order.
    sys.stdout.flush()
    sys.stderr.flush()
    os.dup2(1, 2)
    sys.stdout, sys.stderr = _writer(1), _writer(2)


def write_sentinel(text):
    """Write '\\x1egantry-<text>\\n' to fd 1 after everything printed so far."""
    # The handler may have swapped sys.stdout/sys.stderr; flush whatever they are now as well
    # as the original streams.
    for stream in (sys.stdout, sys.stderr, sys.__stdout__, sys.__stderr__):
        try:
            stream.flush()
        except Exception:
            pass
    data = ("\x1egantry-" + text + "\n").encode("utf-8")
    while data:
        data = data[os.write(1, data):]


def log_error(error):
    """Print an error as AWS's Python runtime does: '[ERROR] Type: message', then the traceback,
    as one multi-line write. AWS prints the 'Traceback' header even when the stack is empty."""
    head = "[ERROR]"
    if error["errorType"]:
        head += " " + error["errorType"] + (":" if error["errorMessage"] else "")
    if error["errorMessage"]:
        head += " " + error["errorMessage"]
    lines = [head, "Traceback (most recent call last):"]
    for element in error["stackTrace"]:
        lines.extend(element.splitlines() or [""])
    sys.stdout.write("\n".join(lines) + "\n")


class _LambdaLogHandler(logging.Handler):
    """The root logger's handler on Lambda: without it `logger.info()` after
    `logger.setLevel(logging.INFO)` prints nothing, and users rely on it printing."""

    def emit(self, record):
        record.aws_request_id = _request_id
        sys.stdout.write(self.format(record))


def setup_logging():
    handler = _LambdaLogHandler()
    handler.setFormatter(logging.Formatter(
        "[%(levelname)s]\t%(asctime)s.%(msecs)03dZ\t%(aws_request_id)s\t%(message)s\n",
        "%Y-%m-%dT%H:%M:%S"))
    handler.formatter.converter = time.gmtime
    logging.getLogger().addHandler(handler)


# --- Errors ---------------------------------------------------------------------------------


def make_error(message, error_type, stack_trace, request_id=""):
    return {"errorMessage": message or "", "errorType": error_type or "",
            "requestId": request_id, "stackTrace": stack_trace or []}


def error_from_exception(exc, request_id=""):
    # Drop this file's frames at the top of the traceback: users should see their code only.
    frames = traceback.extract_tb(exc.__traceback__)
    while frames and frames[0].filename.endswith("/bootstrap.py"):
        frames = frames[1:]
    return make_error(str(exc), type(exc).__name__, traceback.format_list(frames), request_id)


# --- The handler ----------------------------------------------------------------------------


def load_handler(spec):
    """Import the handler named 'module.function' (or 'dir/module.function'), with AWS's error
    types and messages for each way that can fail."""
    try:
        modname, fname = spec.rsplit(".", 1)
    except ValueError as e:
        raise Fault("Runtime.MalformedHandlerName", "Bad handler '{}': {}".format(spec, e))
    if modname.split(".")[0] in sys.builtin_module_names:
        raise Fault("Runtime.BuiltInModuleConflict",
                    "Cannot use built-in module {} as a handler module".format(modname))
    try:
        module = importlib.import_module(modname.replace("/", "."))
    except ImportError as e:
        raise Fault("Runtime.ImportModuleError",
                    "Unable to import module '{}': {}".format(modname, e))
    except SyntaxError as e:
        trace = ['  File "%s" Line %s\n    %s' % (e.filename, e.lineno, e.text)]
        raise Fault("Runtime.UserCodeSyntaxError",
                    "Syntax error in module '{}': {}".format(modname, e), trace)
    try:
        return getattr(module, fname)
    except AttributeError:
        raise Fault("Runtime.HandlerNotFound",
                    "Handler '{}' missing on module '{}'".format(fname, modname))


class CognitoIdentity:
    __slots__ = ("cognito_identity_id", "cognito_identity_pool_id")


class Client:
    __slots__ = ("installation_id", "app_title", "app_version_name", "app_version_code",
                 "app_package_name")


class ClientContext:
    __slots__ = ("custom", "env", "client")


def _from_dict(cls, values):
    if values is None:
        return None
    obj = cls()
    for field in cls.__slots__:
        setattr(obj, field, values.get(field))
    return obj


def _json_header(text, name):
    try:
        return json.loads(text) if text else None
    except ValueError as e:
        raise Fault("Runtime.LambdaContextUnmarshalError",
                    "Unable to parse {} JSON: {}".format(name, e))


class LambdaContext:
    """The handler's second argument, with the attributes and method of awslambdaric's."""

    def __init__(self, request_id, deadline_ms, function_arn, client_context, cognito_identity):
        env = os.environ.get
        self.aws_request_id = request_id
        self.function_name = env("AWS_LAMBDA_FUNCTION_NAME")
        self.function_version = env("AWS_LAMBDA_FUNCTION_VERSION")
        self.invoked_function_arn = function_arn
        memory = env("AWS_LAMBDA_FUNCTION_MEMORY_SIZE")
        self.memory_limit_in_mb = int(memory) if memory and memory.isdigit() else memory
        self.log_group_name = env("AWS_LAMBDA_LOG_GROUP_NAME")
        self.log_stream_name = env("AWS_LAMBDA_LOG_STREAM_NAME")
        self.client_context = _from_dict(ClientContext, client_context)
        if self.client_context is not None:
            self.client_context.client = _from_dict(Client, self.client_context.client)
        # As on Lambda, identity is an object even when the call carried no Cognito identity.
        self.identity = _from_dict(CognitoIdentity, {})
        if cognito_identity:
            self.identity.cognito_identity_id = cognito_identity.get("cognitoIdentityId")
            self.identity.cognito_identity_pool_id = cognito_identity.get("cognitoIdentityPoolId")
        self._deadline_ms = deadline_ms

    def get_remaining_time_in_millis(self):
        return max(self._deadline_ms - int(time.time() * 1000), 0)

    def log(self, msg):
        sys.stdout.write(str(msg))


def _json_default(obj):
    # boto3's DynamoDB layer returns Decimals; awslambdaric (simplejson) writes them as numbers.
    if isinstance(obj, decimal.Decimal):
        return int(obj) if obj.is_finite() and obj == obj.to_integral_value() else float(obj)
    raise TypeError("Object of type %s is not JSON serializable" % type(obj).__name__)


def marshal(result):
    """The response body and its content type; bytes go out as they are, as on Lambda."""
    if isinstance(result, bytes):
        return result, "application/unknown"
    try:
        return json.dumps(result, default=_json_default).encode("utf-8"), "application/json"
    except Exception as e:
        raise Fault("Runtime.MarshalError", "Unable to marshal response: {}".format(e))


# --- The Runtime API ------------------------------------------------------------------------


class RuntimeAPI:
    def __init__(self, address):
        self.address = address

    def request(self, method, path, body=None, headers=None):
        # No timeout: /next blocks until there is an invocation. A connection per request, so a
        # keep-alive connection the server dropped while the sandbox was idle never matters.
        conn = http.client.HTTPConnection(self.address)
        try:
            conn.request(method, API_PATH + path, body=body, headers=headers or {})
            response = conn.getresponse()
            return response.status, response.headers, response.read()
        finally:
            conn.close()

    def next_invocation(self):
        for attempt in range(NEXT_ATTEMPTS):
            try:
                status, headers, body = self.request("GET", "/invocation/next")
                if status == 200:
                    return headers, body
                problem = "HTTP %d %s" % (status, body[:200].decode("utf-8", "replace"))
            except (OSError, http.client.HTTPException) as e:
                problem = repr(e)
            time.sleep(RETRY_DELAY_S)
        sys.stdout.write("gantry runtime: giving up on %s/invocation/next: %s\n"
                         % (self.address, problem))
        sys.exit(1)

    def post(self, path, body, headers):
        try:
            status, _, reply = self.request("POST", path, body, headers)
            if status == 202:
                return
            problem = "HTTP %d %s" % (status, reply[:200].decode("utf-8", "replace"))
        except (OSError, http.client.HTTPException) as e:
            problem = repr(e)
        # The next /next call finds out whether the API is still there; nothing else to do.
        sys.stdout.write("gantry runtime: POST %s failed: %s\n" % (path, problem))

    def post_error(self, path, error, error_type):
        self.post(path, json.dumps(error).encode("utf-8"),
                  {"Content-Type": "application/json",
                   "Lambda-Runtime-Function-Error-Type": error_type})


# --- Main loop ------------------------------------------------------------------------------


def invoke(api, handler, headers, body):
    global _request_id
    request_id = headers.get("Lambda-Runtime-Aws-Request-Id", "")
    _request_id = request_id
    trace_id = headers.get("Lambda-Runtime-Trace-Id")
    if trace_id:
        os.environ["_X_AMZN_TRACE_ID"] = trace_id
    else:
        os.environ.pop("_X_AMZN_TRACE_ID", None)

    error = None
    try:
        try:
            deadline_ms = int(headers.get("Lambda-Runtime-Deadline-Ms", "0"))
        except ValueError:
            deadline_ms = 0
        context = LambdaContext(
            request_id, deadline_ms, headers.get("Lambda-Runtime-Invoked-Function-Arn"),
            _json_header(headers.get("Lambda-Runtime-Client-Context"), "Client Context"),
            _json_header(headers.get("Lambda-Runtime-Cognito-Identity"), "Cognito Identity"))
        try:
            event = json.loads(body) if body else {}
        except ValueError as e:
            raise Fault("Runtime.UnmarshalError", "Unable to unmarshal input: {}".format(e))
        payload, content_type = marshal(handler(event, context))
    except Fault as f:
        error = make_error(f.message, f.error_type, f.trace, request_id)
    except Exception as e:
        error = error_from_exception(e, request_id)

    if error is not None:
        log_error(error)
    write_sentinel("invocation-end " + request_id)
    if error is not None:
        # Lambda sends 'Unhandled' for every error a function did not return itself; the body
        # carries the real errorType.
        api.post_error("/invocation/%s/error" % request_id, error, "Unhandled")
    else:
        api.post("/invocation/%s/response" % request_id, payload,
                 {"Content-Type": content_type})


def main():
    setup_output()
    setup_logging()
    api = RuntimeAPI(os.environ.get("AWS_LAMBDA_RUNTIME_API", "127.0.0.1:9001"))
    task_root = os.environ.get("LAMBDA_TASK_ROOT", "/var/task")
    # Lambda's order: the function's own code wins over layers (/opt/python), which win over
    # the runtime's packages, so a bundled boto3 replaces the one the image ships.
    layers = ["/opt/python/lib/python%d.%d/site-packages" % sys.version_info[:2], "/opt/python"]
    sys.path[0:0] = [task_root] + layers
    try:
        os.chdir(task_root)  # Lambda starts functions in their code's folder
    except OSError:
        pass

    try:
        # In a container image the handler comes as the first argument (the image's CMD), as awslambdaric
        # takes it; in a .zip function's sandbox, from _HANDLER.
        handler = load_handler(sys.argv[1] if len(sys.argv) > 1 else os.environ.get("_HANDLER", ""))
    except Exception as e:
        error = (make_error(e.message, e.error_type, e.trace) if isinstance(e, Fault)
                 else error_from_exception(e))
        log_error(error)
        api.post_error("/init/error", error, error["errorType"])
        sys.exit(1)
    write_sentinel("init-end")

    while True:
        headers, body = api.next_invocation()
        invoke(api, handler, headers, body)


if __name__ == "__main__":
    main()
