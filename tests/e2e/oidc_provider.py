"""A small OpenID Connect provider for the sign-in tests, run inside the test process (no
external service): the authorization-code flow Streamlit's `st.login` speaks, with RS256
ID tokens signed by joserfc (the JOSE library Authlib itself uses to check them).

Endpoints: ``/.well-known/openid-configuration`` (discovery), ``/authorize`` (a page with one
"Sign in as …" link per known user — the browser test clicks one), ``/approve`` (issues a
one-time code and redirects back), ``/token`` (checks the client and the code, returns an
ID token with the user's e-mail, name and groups), ``/jwks`` (the public key).
"""

from __future__ import annotations

import html
import secrets
import socket
import threading
import time
from dataclasses import dataclass, field
from urllib.parse import urlencode

import uvicorn
from joserfc import jwt
from joserfc.jwk import KeySet, RSAKey
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import HTMLResponse, JSONResponse, RedirectResponse
from starlette.routing import Route

CLIENT_ID = "retention-radar"
CLIENT_SECRET = "test-client-secret"


@dataclass
class Person:
    email: str
    name: str
    groups: list[str] = field(default_factory=list)


@dataclass
class OIDCProvider:
    users: list[Person]
    host: str = "127.0.0.1"
    port: int = 0
    codes: dict = field(default_factory=dict)       # code -> (user, nonce, client_id, redirect_uri)
    issued: list = field(default_factory=list)       # e-mails an ID token was issued for

    def __post_init__(self):
        self.key = RSAKey.generate_key(2048, parameters={"kid": "test-key", "use": "sig", "alg": "RS256"})
        if not self.port:
            with socket.socket() as s:
                s.bind((self.host, 0))
                self.port = s.getsockname()[1]
        self.server: uvicorn.Server | None = None

    @property
    def issuer(self) -> str:
        return f"http://{self.host}:{self.port}"

    @property
    def metadata_url(self) -> str:
        return f"{self.issuer}/.well-known/openid-configuration"

    # --- endpoints --------------------------------------------------------------------------
    async def discovery(self, request: Request):
        return JSONResponse({
            "issuer": self.issuer,
            "authorization_endpoint": f"{self.issuer}/authorize",
            "token_endpoint": f"{self.issuer}/token",
            "jwks_uri": f"{self.issuer}/jwks",
            "response_types_supported": ["code"],
            "subject_types_supported": ["public"],
            "id_token_signing_alg_values_supported": ["RS256"],
            "token_endpoint_auth_methods_supported": ["client_secret_basic", "client_secret_post"],
            "scopes_supported": ["openid", "email", "profile"],
        })

    async def authorize(self, request: Request):
        q = request.query_params
        if q.get("client_id") != CLIENT_ID or q.get("response_type") != "code":
            return HTMLResponse("unknown client or response type", status_code=400)
        links = []
        for user in self.users:
            params = urlencode({"user": user.email, "state": q.get("state", ""), "nonce": q.get("nonce", ""),
                                "redirect_uri": q.get("redirect_uri", "")})
            links.append(f'<li><a href="/approve?{html.escape(params)}">Sign in as {html.escape(user.email)}</a></li>')
        return HTMLResponse(f"<html><body><h1>Test identity provider</h1><ul>{''.join(links)}</ul></body></html>")

    async def approve(self, request: Request):
        q = request.query_params
        user = next((u for u in self.users if u.email == q.get("user")), None)
        if user is None:
            return HTMLResponse("unknown user", status_code=400)
        code = secrets.token_urlsafe(16)
        self.codes[code] = (user, q.get("nonce"), q.get("redirect_uri"))
        return RedirectResponse(f"{q['redirect_uri']}?{urlencode({'code': code, 'state': q.get('state', '')})}",
                                status_code=302)

    async def token(self, request: Request):
        form = await request.form()
        client_id, client_secret = form.get("client_id"), form.get("client_secret")
        auth = request.headers.get("authorization", "")
        if auth.lower().startswith("basic "):
            import base64
            from urllib.parse import unquote

            client_id, _, client_secret = base64.b64decode(auth[6:]).decode().partition(":")
            client_id, client_secret = unquote(client_id), unquote(client_secret)
        if (client_id, client_secret) != (CLIENT_ID, CLIENT_SECRET):
            return JSONResponse({"error": "invalid_client"}, status_code=401)
        held = self.codes.pop(form.get("code"), None)  # one-time codes
        if form.get("grant_type") != "authorization_code" or held is None or held[2] != form.get("redirect_uri"):
            return JSONResponse({"error": "invalid_grant"}, status_code=400)
        user, nonce, _ = held
        now = int(time.time())
        claims = {"iss": self.issuer, "sub": user.email, "aud": CLIENT_ID, "iat": now, "exp": now + 600,
                  "nonce": nonce, "email": user.email, "email_verified": True, "name": user.name,
                  "groups": user.groups}
        id_token = jwt.encode({"alg": "RS256", "kid": "test-key"}, claims, self.key)
        self.issued.append(user.email)
        return JSONResponse({"access_token": secrets.token_urlsafe(16), "token_type": "Bearer", "expires_in": 600,
                             "id_token": id_token, "scope": "openid email profile"})

    async def jwks(self, request: Request):
        return JSONResponse(KeySet([self.key]).as_dict(private=False))

    # --- running ----------------------------------------------------------------------------
    def start(self) -> "OIDCProvider":
        app = Starlette(routes=[
            Route("/.well-known/openid-configuration", self.discovery),
            Route("/authorize", self.authorize),
            Route("/approve", self.approve),
            Route("/token", self.token, methods=["POST"]),
            Route("/jwks", self.jwks),
        ])
        self.server = uvicorn.Server(uvicorn.Config(app, host=self.host, port=self.port, log_level="warning"))
        threading.Thread(target=self.server.run, daemon=True).start()
        deadline = time.monotonic() + 10
        while not self.server.started:
            if time.monotonic() > deadline:
                raise RuntimeError("the test OIDC provider did not start")
            time.sleep(0.05)
        return self

    def stop(self) -> None:
        if self.server is not None:
            self.server.should_exit = True


def secrets_toml(provider: OIDCProvider, app_port: int) -> str:
    """The .streamlit/secrets.toml `[auth]` table pointing Streamlit at `provider`."""
    return (
        "[auth]\n"
        f'redirect_uri = "http://127.0.0.1:{app_port}/oauth2callback"\n'
        f'cookie_secret = "{secrets.token_hex(32)}"\n'
        f'client_id = "{CLIENT_ID}"\n'
        f'client_secret = "{CLIENT_SECRET}"\n'
        f'server_metadata_url = "{provider.metadata_url}"\n'
    )
