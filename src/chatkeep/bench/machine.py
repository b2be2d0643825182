"""What the figures were measured on: machine, kernel, Python, database and libraries."""

from __future__ import annotations

import os
import platform
from importlib import metadata
from pathlib import Path
from typing import Any

from sqlalchemy import text

from chatkeep.runtime import Runtime

LIBRARIES = ("chatkeep", "fastapi", "starlette", "uvicorn", "uvloop", "httptools", "pydantic",
             "sqlalchemy", "asyncpg", "aiosqlite", "orjson")  # fmt: skip


def machine_info() -> dict[str, Any]:
    return {
        "cpu_model": _cpuinfo("model name"),
        "cpus": os.cpu_count(),
        "memory_gb": round(_meminfo_kb("MemTotal") / 2**20, 1),
        "kernel": platform.release(),
        "os": platform.platform(),
        "python": platform.python_version(),
        # Other work on the machine skews every figure: the report shows how busy it was.
        "load_average": [round(x, 2) for x in os.getloadavg()],
        "libraries": {name: _version(name) for name in LIBRARIES},
    }


async def database_version(state: Runtime) -> str:
    async with state.engine.connect() as conn:
        if conn.dialect.name == "postgresql":
            return str(await conn.scalar(text("SELECT version()")))
        return f"SQLite {await conn.scalar(text('SELECT sqlite_version()'))}"


def _version(name: str) -> str:
    try:
        return metadata.version(name)
    except metadata.PackageNotFoundError:
        return "absent"


def _cpuinfo(field: str) -> str:
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith(field):
                return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or "unknown"


def _meminfo_kb(field: str) -> int:
    try:
        for line in Path("/proc/meminfo").read_text().splitlines():
            if line.startswith(field + ":"):
                return int(line.split()[1])
    except OSError:
        pass
    return 0
