"""Plain-HTTP downloads against a local server: a range request resumes, a server without range
support restarts, and the result is verified either way."""

import hashlib
import threading
from collections.abc import Iterator
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import pytest

from radsweep.weights.download import download, part_file

DATA = bytes(range(256)) * 4000  # about 1 MB
SHA = hashlib.sha256(DATA).hexdigest()


@dataclass
class Served:
    url: str
    ranges: bool
    asked: list[str | None] = field(default_factory=list)  # the Range header of each request


def _handler(served: Served) -> type[BaseHTTPRequestHandler]:
    class Handler(BaseHTTPRequestHandler):
        def do_GET(self) -> None:
            asked = self.headers.get("Range")
            served.asked.append(asked)
            start = int(asked[len("bytes=") : -1]) if asked and served.ranges else 0
            self.send_response(206 if start else 200)
            self.send_header("Content-Length", str(len(DATA) - start))
            self.end_headers()
            self.wfile.write(DATA[start:])

        def log_message(self, *args: object) -> None:
            pass

    return Handler


@pytest.fixture(params=[True, False], ids=["ranges", "no-ranges"])
def server(request: pytest.FixtureRequest) -> Iterator[Served]:
    served = Served(url="", ranges=request.param)
    httpd = ThreadingHTTPServer(("127.0.0.1", 0), _handler(served))
    served.url = f"http://127.0.0.1:{httpd.server_address[1]}/c2l.pth"
    thread = threading.Thread(target=httpd.serve_forever, daemon=True)
    thread.start()
    yield served
    httpd.shutdown()
    thread.join()


def test_an_http_download_resumes_or_restarts(server: Served, tmp_path: Path) -> None:
    target = tmp_path / "c2l.pth"
    part_file(target).write_bytes(DATA[:300_000])  # what an interrupted transfer left
    assert download(server.url, target, SHA) == SHA
    assert target.read_bytes() == DATA and not part_file(target).exists()
    assert server.asked == ["bytes=300000-"]  # it asked for the rest only
