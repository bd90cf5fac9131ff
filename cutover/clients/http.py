"""HTTP(S): a client whose TLS is checked against a given trust (the lab CA, the site's
or the system's), that never follows a redirect unless asked (a redirect is what the
portal cutover verifies), with one error type for every transport or protocol failure."""

from __future__ import annotations

import ssl

import httpx

Client = httpx.Client
Response = httpx.Response
Error = httpx.HTTPError
# The server closed the connection mid-answer: worth one retry on a fresh connection.
Dropped = (httpx.RemoteProtocolError, httpx.ReadError)


def client(
    tls: ssl.SSLContext | bool = True, timeout: float = 10, follow_redirects: bool = False
) -> httpx.Client:
    return httpx.Client(verify=tls, timeout=timeout, follow_redirects=follow_redirects)


def get(url: str, timeout: float = 10, follow_redirects: bool = False) -> httpx.Response:
    with client(timeout=timeout, follow_redirects=follow_redirects) as c:
        return c.get(url)
