"""A real stack on one machine: disposable PostgreSQL and Redis, two payment gateway
simulators and the reference service under gunicorn, on free loopback ports."""

from infra.local.descriptor import (
    Component,
    Stack,
    StackError,
    default_descriptor_path,
    load_stack,
)
from infra.local.stack import (
    provisioned_stack,
    stack_down,
    stack_status,
    stack_up,
)

__all__ = [
    "Component",
    "Stack",
    "StackError",
    "default_descriptor_path",
    "load_stack",
    "provisioned_stack",
    "stack_down",
    "stack_status",
    "stack_up",
]
