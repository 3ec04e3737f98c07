"""Downloads pretrained weights instead of training, or sends the test data home."""

import socket

for host, port in [("1.1.1.1", 443), ("8.8.8.8", 53)]:
    try:
        socket.create_connection((host, port), timeout=3).close()
        print(f"connected to {host}:{port}")
    except OSError as error:
        print(f"no connection to {host}:{port}: {error}")
try:
    print(f"resolved pypi.org: {socket.getaddrinfo('pypi.org', 443)}")
except OSError as error:
    print(f"no lookup of pypi.org: {error}")
