"""A local HTTP server that speaks Twilio's Messages API, for the Twilio backend's tests.

It answers POST /2010-04-01/Accounts/{sid}/Messages.json as Twilio does: 201 with the message's
JSON (its SID starting "SM"), or an error answer in Twilio's shape ({"code", "message",
"more_info", "status"}), or nothing for a while (a slow provider). Each answer is queued by the
test; with none queued, it accepts. Every request is kept for the test to read.
"""

import base64
import json
import threading
import time
import uuid
from collections import deque
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import parse_qs

import pytest

ACCOUNT_SID = "AC" + "1" * 32
AUTH_TOKEN = "local-test-auth-token"
FROM_NUMBER = "+447400000001"


@dataclass
class Received:
    path: str
    authorization: str
    form: dict[str, str]

    @property
    def credentials(self) -> str:
        return base64.b64decode(self.authorization.removeprefix("Basic ")).decode()


@dataclass
class TwilioServer:
    url: str = ""
    received: list[Received] = field(default_factory=list)
    answers: deque = field(default_factory=deque)

    def accept(self) -> None:
        self.answers.append(("accept", 0))

    def refuse(self, status: int, code: int) -> None:
        self.answers.append(("refuse", (status, code)))

    def hang(self, seconds: float) -> None:
        self.answers.append(("hang", seconds))


def handler_for(server_state: TwilioServer) -> type[BaseHTTPRequestHandler]:
    class Handler(BaseHTTPRequestHandler):
        def log_message(self, *args: object) -> None:  # quiet
            pass

        def answer(self, status: int, payload: dict) -> None:
            body = json.dumps(payload).encode()
            self.send_response(status)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

        def do_POST(self) -> None:
            length = int(self.headers.get("Content-Length", "0"))
            form = {k: v[0] for k, v in parse_qs(self.rfile.read(length).decode()).items()}
            server_state.received.append(Received(self.path, self.headers.get("Authorization", ""), form))
            what, detail = server_state.answers.popleft() if server_state.answers else ("accept", 0)
            if not self.path.startswith(f"/2010-04-01/Accounts/{ACCOUNT_SID}/Messages.json"):
                self.answer(
                    404, {"code": 20404, "message": "The requested resource was not found", "status": 404}
                )
            elif self.authorization_ok() is False:
                self.answer(401, {"code": 20003, "message": "Authenticate", "status": 401})
            elif what == "hang":
                time.sleep(detail)
                self.answer(201, self.accepted(form))
            elif what == "refuse":
                status, code = detail
                self.answer(
                    status,
                    {
                        "code": code,
                        # Twilio's messages echo the number: it must not reach our records.
                        "message": f"The 'To' number {form.get('To')} is not valid.",
                        "more_info": f"https://www.twilio.com/docs/errors/{code}",
                        "status": status,
                    },
                )
            else:
                self.answer(201, self.accepted(form))

        def authorization_ok(self) -> bool:
            expected = base64.b64encode(f"{ACCOUNT_SID}:{AUTH_TOKEN}".encode()).decode()
            return self.headers.get("Authorization", "") == f"Basic {expected}"

        def accepted(self, form: dict[str, str]) -> dict:
            return {
                "sid": "SM" + uuid.uuid4().hex,
                "account_sid": ACCOUNT_SID,
                "to": form.get("To"),
                "from": form.get("From"),
                "body": form.get("Body"),
                "status": "queued",
                "num_segments": "1",
                "direction": "outbound-api",
                "error_code": None,
            }

    return Handler


@pytest.fixture
def twilio(settings):
    """Texts go to Twilio's API, here a local server; SMS_TIMEOUT_SECONDS is short, so a hang is a
    timeout."""
    state = TwilioServer()
    server = ThreadingHTTPServer(("127.0.0.1", 0), handler_for(state))
    server.daemon_threads = True
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    state.url = f"http://127.0.0.1:{server.server_address[1]}"
    settings.SMS_BACKEND = "twilio"
    settings.TWILIO_API_URL = state.url
    settings.TWILIO_ACCOUNT_SID = ACCOUNT_SID
    settings.TWILIO_AUTH_TOKEN = AUTH_TOKEN
    settings.DEFAULT_FROM_SMS = FROM_NUMBER
    settings.SMS_TIMEOUT_SECONDS = 0.5
    yield state
    server.shutdown()
    server.server_close()
