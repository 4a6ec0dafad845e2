"""Customers: sign-up, the customer's own record, an admin's search, balances, the trail, and `/features`."""

from __future__ import annotations

from flask import Request, Response

from functions.billing.common.http import admin_secret, caller
from functions.billing.customers import schemas, serializers, usecases
from shared.billing.callers import Caller
from shared.bootstrap import Container
from shared.http import params
from shared.http.pages import page_args
from shared.http.responses import json_response


def create_customer(request: Request, c: Container) -> Response:
    who = caller(request, c)
    body = params.json_body(request, schemas.CreateCustomerIn) if request.content_length else schemas.CreateCustomerIn()
    view, created = usecases.register(c.billing_uow(), who, body.signup_source)
    return json_response(serializers.customer(view), 201 if created else 200)


def get_me(request: Request, c: Container) -> Response:
    return json_response(serializers.customer(usecases.me(c.billing_uow(), caller(request, c))))


def get_customer(request: Request, c: Container, customer_id: str) -> Response:
    view = usecases.view(c.billing_uow(), caller(request, c), customer_id)
    return json_response(serializers.customer_admin(view))


def search_customers(request: Request, c: Container) -> Response:
    who = caller(request, c)
    page, limit = page_args(request.args, c.settings.max_page_size)
    rows, total = usecases.search(c.billing_uow(), who, schemas.filters(request.args), page, limit)
    return json_response(serializers.customers_page(rows, total, page, limit))


def my_balance(request: Request, c: Container) -> Response:
    who = caller(request, c)
    return json_response(serializers.balance(usecases.balance(c.billing_uow(), who, who.customer_id)))


def customer_balance(request: Request, c: Container, customer_id: str) -> Response:
    who = caller(request, c)
    return json_response(serializers.balance(usecases.balance(c.billing_uow(), who, customer_id)))


def admin_customer_balance(request: Request, c: Container, customer_id: str) -> Response:
    admin_secret(request, c)
    return json_response(serializers.balance(usecases.balance(c.billing_uow(), None, customer_id)))


def my_events(request: Request, c: Container) -> Response:
    who = caller(request, c)
    return _events(request, c, who, who.customer_id)


def customer_events(request: Request, c: Container, customer_id: str) -> Response:
    return _events(request, c, caller(request, c), customer_id)


def _events(request: Request, c: Container, who: Caller, customer_id: str) -> Response:
    page, limit = page_args(request.args, c.settings.max_page_size)
    types, window = schemas.event_types(request.args), schemas.window(request.args)
    result = usecases.events(c.billing_uow(), who, customer_id, types, window, page, limit)
    return json_response(serializers.events_page(result))


def features(request: Request, c: Container) -> Response:
    return json_response(serializers.features(c.settings.partner_node_conversion_rate))
