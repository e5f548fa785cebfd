"""A bare FastAPI hello-world app: the same-run baseline of ``smartseoul bench api``.

It runs under exactly the uvicorn call of ``smartseoul serve`` (one worker, default loop and HTTP
parser, no access log), so the ratio of the two measures what the platform adds to a request and
not a difference in server settings. Usage: ``python bench/_hello_app.py HOST PORT``.
"""

from __future__ import annotations

import sys

from fastapi import FastAPI

app = FastAPI()


@app.get("/hello")
async def hello() -> dict[str, str]:
    """The smallest useful JSON route FastAPI serves."""
    return {"message": "hello"}


def main() -> None:
    import uvicorn

    host, port = sys.argv[1], int(sys.argv[2])
    # Keep in step with smartseoul.cli._serve.
    uvicorn.run(app, host=host, port=port, log_config=None, access_log=False)


if __name__ == "__main__":
    main()
