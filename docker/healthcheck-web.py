"""Exit 0 when the web server answers GET /healthz with 200 (the database is reachable).

The request must carry a host name the site accepts, or Django answers 400; it uses the first
entry of ALLOWED_HOSTS that is a plain name rather than a pattern.
"""

import os
import sys
import urllib.error
import urllib.request

URL = "http://127.0.0.1:8000/healthz"


def host_header() -> str:
    for entry in os.environ.get("ALLOWED_HOSTS", "").split(","):
        name = entry.strip().lstrip(".")
        if name and name != "*":
            return name
    return "localhost"


def main() -> int:
    request = urllib.request.Request(URL, headers={"Host": host_header()})
    try:
        with urllib.request.urlopen(request, timeout=5) as response:  # noqa: S310
            return 0 if response.status == 200 else 1
    except (urllib.error.URLError, OSError) as error:
        print(f"healthz: {error}", file=sys.stderr)
        return 1


if __name__ == "__main__":
    sys.exit(main())
