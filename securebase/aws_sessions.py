"""boto3 sessions for the management account and, through the platform role, customer accounts."""

from __future__ import annotations

import threading
from collections.abc import Callable
from typing import Any

import boto3


class EndpointSession:
    """A boto3 session whose clients all use one endpoint, such as an emulator on 127.0.0.1.

    Checks call `session.client(service)` without an endpoint, so this wrapper keeps an
    emulator run from ever reaching AWS itself.
    """

    def __init__(self, session: boto3.session.Session, endpoint_url: str | None):
        self._session = session
        self._endpoint_url = endpoint_url

    @property
    def region_name(self) -> str | None:
        """Return the session's region."""
        return self._session.region_name

    def get_credentials(self) -> Any:
        """Return the session's credentials, or None when the credential chain found none."""
        return self._session.get_credentials()

    def client(self, service: str, **kwargs: Any) -> Any:
        """Return a client for `service` at the session's endpoint."""
        if self._endpoint_url is not None:
            kwargs.setdefault("endpoint_url", self._endpoint_url)
        return self._session.client(service, **kwargs)


SessionFactory = Callable[[str | None], EndpointSession]


def account_sessions(
    management: boto3.session.Session, role_name: str, endpoint_url: str | None = None
) -> SessionFactory:
    """Return a factory of sessions: None gives `management`, an account id assumes `role_name` there.

    Each account's role is assumed once and its session reused.
    """
    sessions: dict[str | None, EndpointSession] = {None: EndpointSession(management, endpoint_url)}
    lock = threading.Lock()

    def session_for(account_id: str | None) -> EndpointSession:
        with lock:
            if account_id not in sessions:
                sts = management.client("sts", endpoint_url=endpoint_url)
                credentials = sts.assume_role(
                    RoleArn=f"arn:aws:iam::{account_id}:role/{role_name}", RoleSessionName="securebase"
                )["Credentials"]
                assumed = boto3.session.Session(
                    aws_access_key_id=credentials["AccessKeyId"],
                    aws_secret_access_key=credentials["SecretAccessKey"],
                    aws_session_token=credentials["SessionToken"],
                    region_name=management.region_name,
                )
                sessions[account_id] = EndpointSession(assumed, endpoint_url)
            return sessions[account_id]

    return session_for


def paginate(client: Any, operation: str, key: str, **kwargs: Any) -> list[dict[str, Any]]:
    """Return every item under `key` of a list operation, across all pages when it pages."""
    if client.can_paginate(operation):
        items: list[dict[str, Any]] = []
        for page in client.get_paginator(operation).paginate(**kwargs):
            items += page.get(key, [])
        return items
    return getattr(client, operation)(**kwargs).get(key, [])
