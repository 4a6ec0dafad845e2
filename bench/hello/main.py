"""The baseline: a bare functions-framework function, served the same way as ours."""

import functions_framework
from flask import Request


@functions_framework.http
def hello(request: Request) -> str:
    return "hello"
