"""A provider API on loopback for the connector tests: ``http.server`` in a thread on 127.0.0.1, answering the
report paths with pages in the providers' documented shapes (``data`` of buckets, ``has_more``, ``next_page``),
checking the credentials the way each provider does, and answering 429 with Retry-After where a test asks."""

import http.server
import json
import threading
import urllib.parse
from dataclasses import dataclass, field


@dataclass
class FakeProvider:
    # path -> the pages it answers, in order; page i+1 is asked for with ?page=<cursor of page i>
    pages: dict[str, list[dict]] = field(default_factory=dict)
    # (path, page index) -> Retry-After value of the 429 answered before that page (once each)
    throttle: dict[tuple[str, int], str] = field(default_factory=dict)
    # how a request proves who it is: header name -> the value expected
    auth: dict[str, str] = field(default_factory=dict)
    requests: list[dict] = field(default_factory=list)
    server: http.server.ThreadingHTTPServer | None = None

    @property
    def base_url(self) -> str:
        host, port = self.server.server_address[:2]
        return f"http://{host}:{port}"

    def set_report(self, path: str, buckets_per_page: list[list[dict]], *, openai: bool) -> None:
        """The report at ``path`` as pages of the given buckets, linked by cursors."""
        pages = []
        for index, buckets in enumerate(buckets_per_page):
            more = index + 1 < len(buckets_per_page)
            page = {"data": buckets, "has_more": more, "next_page": f"cursor-{index + 1}" if more else None}
            if openai:
                page = {"object": "page", **page}
            pages.append(page)
        self.pages[path] = pages

    def start(self) -> "FakeProvider":
        fake = self

        class Handler(http.server.BaseHTTPRequestHandler):
            def log_message(self, *args):
                pass

            def _answer(self, status: int, body: dict, headers: dict | None = None) -> None:
                data = json.dumps(body, indent=2).encode()  # pretty-printed: pages span lines, as real ones may
                self.send_response(status)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(data)))
                for name, value in (headers or {}).items():
                    self.send_header(name, value)
                self.end_headers()
                self.wfile.write(data)

            def do_GET(self):
                url = urllib.parse.urlsplit(self.path)
                query = urllib.parse.parse_qs(url.query)
                fake.requests.append({"path": url.path, "query": query, "headers": dict(self.headers)})
                for name, expected in fake.auth.items():
                    if self.headers.get(name) != expected:
                        self._answer(401, {"error": {"type": "authentication_error", "message": "invalid x"}})
                        return
                pages = fake.pages.get(url.path)
                if pages is None:
                    self._answer(404, {"error": {"message": f"no route {url.path}"}})
                    return
                cursor = query.get("page", [None])[0]
                index = int(cursor.split("-")[1]) if cursor else 0
                retry_after = fake.throttle.pop((url.path, index), None)
                if retry_after is not None:
                    self._answer(429, {"error": {"message": "rate limited"}}, {"Retry-After": retry_after})
                    return
                self._answer(200, pages[index])

        self.server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        threading.Thread(target=self.server.serve_forever, daemon=True).start()
        return self

    def stop(self) -> None:
        self.server.shutdown()
        self.server.server_close()

    def asked(self, path: str) -> list[dict]:
        return [request for request in self.requests if request["path"] == path]
