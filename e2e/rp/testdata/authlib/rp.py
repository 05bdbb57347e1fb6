"""A practice app's back end that logs staff in through frontdesk with
Authlib (Debian's python3-authlib, with python3-requests), unmodified.

The relying-party tests (e2e/rp) run it with /usr/bin/python3: RP_ISSUER,
RP_CLIENT_ID, RP_CLIENT_SECRET and RP_BASE (this app's own URL) come from the
environment; it listens on the socket passed as file descriptor 3. Its pages:
/login, /callback, /refresh, /logout, /logged-out; /callback and /refresh
answer with what it got as JSON.
"""
import http.cookies
import json
import os
import secrets
import socket
import sys
from http.server import BaseHTTPRequestHandler, HTTPServer
from urllib.parse import parse_qs, urlencode, urlsplit

import requests
from authlib.common.security import generate_token
from authlib.integrations.requests_client import OAuth2Session
from authlib.jose import JsonWebKey, jwt
from authlib.oidc.core import CodeIDToken

ISSUER, CLIENT_ID = os.environ["RP_ISSUER"], os.environ["RP_CLIENT_ID"]
CLIENT_SECRET, BASE = os.environ["RP_CLIENT_SECRET"], os.environ["RP_BASE"]
META = requests.get(ISSUER + "/.well-known/openid-configuration", timeout=10).json()
JWKS = JsonWebKey.import_key_set(requests.get(META["jwks_uri"], timeout=10).json())
SESSIONS = {}  # session cookie -> {"oauth": OAuth2Session, "state", "nonce", "verifier", "claims"}


def verify_id_token(token, nonce):
    """Checks the ID token's signature (frontdesk's JWKS), iss, aud, exp, at_hash and nonce."""
    claims = jwt.decode(token["id_token"], JWKS, claims_cls=CodeIDToken,
                        claims_options={"iss": {"essential": True, "value": ISSUER}},
                        claims_params={"nonce": nonce, "client_id": CLIENT_ID,
                                       "access_token": token["access_token"]})
    claims.validate()
    return dict(claims)


def report(session):
    oauth = session["oauth"]
    return {"id_token": session["claims"],
            "userinfo": oauth.get(META["userinfo_endpoint"], timeout=10).json(),
            "access_token": oauth.token["access_token"],
            "refresh_token": oauth.token.get("refresh_token")}  # for the test only


class Handler(BaseHTTPRequestHandler):
    def do_GET(self):
        try:
            self.route()
        except Exception as err:  # a test app: say what went wrong
            self.log_message("%r", err)
            self.reply(500, "text/plain", repr(err).encode())

    def route(self):
        path = urlsplit(self.path).path
        cookie = http.cookies.SimpleCookie(self.headers.get("Cookie", ""))
        sid = cookie["sid"].value if "sid" in cookie else None
        session = SESSIONS.get(sid)
        if path == "/login":
            sid = secrets.token_urlsafe(16)
            oauth = OAuth2Session(CLIENT_ID, CLIENT_SECRET, scope="openid email profile offline_access roles",
                                  redirect_uri=BASE + "/callback", code_challenge_method="S256")
            session = SESSIONS[sid] = {"oauth": oauth, "nonce": generate_token(24), "verifier": generate_token(48)}
            url, session["state"] = oauth.create_authorization_url(
                META["authorization_endpoint"], code_verifier=session["verifier"], nonce=session["nonce"])
            return self.redirect(url, "sid=%s; Path=/; HttpOnly; SameSite=Lax" % sid)
        if path == "/callback":
            response = BASE + self.path
            if parse_qs(urlsplit(response).query).get("iss") != [ISSUER]:
                raise ValueError("authorization response from another issuer (RFC 9207)")
            token = session["oauth"].fetch_token(META["token_endpoint"], authorization_response=response,
                                                 state=session["state"], code_verifier=session["verifier"])
            session["claims"] = verify_id_token(token, session["nonce"])
            session["id_token"] = token["id_token"]
            return self.json(report(session))
        if path == "/refresh":
            # frontdesk rotates refresh tokens; OAuth2Session keeps the new one.
            oauth = session["oauth"]
            token = oauth.refresh_token(META["token_endpoint"], refresh_token=oauth.token["refresh_token"])
            if "id_token" in token:
                session["claims"] = verify_id_token(token, None)
                session["id_token"] = token["id_token"]
            return self.json(report(session))
        if path == "/logout":
            del SESSIONS[sid]
            return self.redirect(META["end_session_endpoint"] + "?" + urlencode({
                "id_token_hint": session["id_token"],
                "post_logout_redirect_uri": BASE + "/logged-out"}))
        if path == "/logged-out":
            return self.reply(200, "text/plain", b"logged out\n")
        return self.reply(404, "text/plain", b"not found\n")

    def redirect(self, url, cookie=None):
        self.send_response(302)
        self.send_header("Location", url)
        if cookie:
            self.send_header("Set-Cookie", cookie)
        self.send_header("Content-Length", "0")
        self.end_headers()

    def json(self, body):
        self.reply(200, "application/json", json.dumps(body).encode())

    def reply(self, status, ctype, body):
        self.send_response(status)
        self.send_header("Content-Type", ctype)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, fmt, *args):
        sys.stderr.write("authlib rp: " + fmt % args + "\n")


server = HTTPServer(("127.0.0.1", 0), Handler, bind_and_activate=False)
server.socket = socket.socket(fileno=3)
print("ready", flush=True)
server.serve_forever()
