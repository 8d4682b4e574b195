"""Errors say each fact once: the message is Domo's text (or what went wrong), and the
method, URL, status and trace id appear once each, from the exception's fields."""

from __future__ import annotations

import socket

import domo_datasets as dd
import pytest
from hostile import DATASET_ID, Handler, Hostile

DOMO_TEXT = "Column 'region' does not exist"


def refusing(h: Handler) -> None:
    h.reply_json(
        400,
        {"status": 400, "statusReason": "Bad Request", "message": DOMO_TEXT, "toe": "TOE-1"},
    )


def dataset(url: str) -> dd.Dataset:
    return dd.Client(url, token="a-token-for-tests", max_retries=0).dataset(DATASET_ID)


def assert_api_error(err: dd.DomoError, url: str) -> None:
    assert isinstance(err, dd.BadRequestError)
    assert err.message == DOMO_TEXT
    assert err.status == 400 and err.status_reason == "Bad Request" and err.toe == "TOE-1"
    text = str(err)
    for fact in (DOMO_TEXT, err.url, "400", "TOE-1"):
        assert fact and text.count(fact) == 1, (fact, text)
    assert err.url is not None and err.url.startswith(url)


def test_api_error_message_is_domos_text() -> None:
    with Hostile(refusing) as server:
        with pytest.raises(dd.BadRequestError) as caught:
            dataset(server.url).query("SELECT `region` FROM table")
        assert_api_error(caught.value, server.url)


async def test_api_error_message_is_domos_text_async() -> None:
    with Hostile(refusing) as server:
        with pytest.raises(dd.BadRequestError) as caught:
            await dataset(server.url).query_async("SELECT `region` FROM table")
        assert_api_error(caught.value, server.url)


def closed_port() -> int:
    """A port on 127.0.0.1 that nothing listens on (bound, then released)."""
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port: int = s.getsockname()[1]
    return port


def assert_transport_error(err: dd.DomoError, url: str) -> None:
    assert isinstance(err, dd.TransportError)
    text = str(err)
    assert err.method == "GET" and err.url is not None and err.url.startswith(url)
    assert text.count(err.url) == 1, text
    assert text.count("GET ") == 1, text
    assert "could not connect" in err.message and err.url not in err.message


def test_transport_error_names_the_request_once() -> None:
    url = f"http://127.0.0.1:{closed_port()}"
    with pytest.raises(dd.TransportError) as caught:
        dataset(url).metadata()
    assert_transport_error(caught.value, url)


async def test_transport_error_names_the_request_once_async() -> None:
    url = f"http://127.0.0.1:{closed_port()}"
    with pytest.raises(dd.TransportError) as caught:
        await dataset(url).metadata_async()
    assert_transport_error(caught.value, url)
