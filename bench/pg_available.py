"""Exit 0 when the PostgreSQL server named by the URL accepts connections, else 1."""

import sys

import psycopg


def main(url: str) -> int:
    # Connect to the maintenance database: the test database itself may not exist yet.
    base, _, _ = url.rpartition("/")
    try:
        with psycopg.connect(f"{base}/postgres", connect_timeout=3):
            return 0
    except psycopg.Error:
        return 1


if __name__ == "__main__":
    sys.exit(main(sys.argv[1]))
