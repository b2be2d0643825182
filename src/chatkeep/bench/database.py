"""Where a benchmark data set lives, and reusing it across runs.

SQLite: a file ``bench/data/<size>-s<seed>.db``. PostgreSQL: a database
``chatkeep_bench_<size>_s<seed>`` created on the server named by CHATKEEP_DATABASE_URL.
Either is kept after the run with a manifest beside it (bench/data/*.json), so the next
run at the same size and seed (and the same migration head) reuses it instead of loading
a million rows again; ``--fresh`` drops and rebuilds it.
"""

from __future__ import annotations

import dataclasses
import json
from pathlib import Path

import asyncpg
from sqlalchemy.engine import make_url

from chatkeep.bench.load import LoadedDataset
from chatkeep.db.migrate import alembic_config

DATA_DIR = Path("bench/data")
MANIFEST_FORMAT = 2  # bumped when the data set's shape changes: older sets reload


@dataclasses.dataclass(frozen=True, slots=True)
class BenchDatabase:
    backend: str  # "sqlite" | "postgresql"
    url: str
    manifest: Path

    async def recreate(self) -> None:
        """An empty database in its place (the manifest goes first: a half load is no set)."""
        self.manifest.unlink(missing_ok=True)
        if self.backend == "sqlite":
            _remove_sqlite_files(Path(make_url(self.url).database or ""))
            return
        name = make_url(self.url).database
        admin = await asyncpg.connect(_admin_dsn(self.url))
        try:
            await admin.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
            await admin.execute(f'CREATE DATABASE "{name}"')
        finally:
            await admin.close()

    async def exists(self) -> bool:
        if self.backend == "sqlite":
            return _file_exists(Path(make_url(self.url).database or ""))
        admin = await asyncpg.connect(_admin_dsn(self.url))
        try:
            name = make_url(self.url).database
            found = await admin.fetchval("SELECT 1 FROM pg_database WHERE datname = $1", name)
        finally:
            await admin.close()
        return found is not None

    def load_manifest(self) -> LoadedDataset | None:
        """The loaded set the manifest describes, if written by this format and schema."""
        try:
            raw = json.loads(self.manifest.read_text())
        except (OSError, ValueError):
            return None
        if raw.pop("format", None) != MANIFEST_FORMAT or raw.pop("head", None) != schema_head():
            return None
        return LoadedDataset(**raw)

    def save_manifest(self, loaded: LoadedDataset) -> None:
        self.manifest.parent.mkdir(parents=True, exist_ok=True)
        payload = {"format": MANIFEST_FORMAT, "head": schema_head(), **dataclasses.asdict(loaded)}
        self.manifest.write_text(json.dumps(payload, indent=1))


def bench_database(
    base_url: str, label: str, seed: int, data_dir: Path = DATA_DIR
) -> BenchDatabase:
    """The data set's own database, on the backend of ``base_url``."""
    backend = make_url(base_url).get_backend_name()
    if backend == "sqlite":
        path = (data_dir / f"{label}-s{seed}.db").resolve()
        return BenchDatabase(
            "sqlite", f"sqlite:///{path}", data_dir / f"sqlite-{label}-s{seed}.json"
        )
    if backend in {"postgresql", "postgres"}:
        name = f"chatkeep_bench_{label}_s{seed}"
        url = make_url(base_url).set(database=name).render_as_string(hide_password=False)
        return BenchDatabase("postgresql", url, data_dir / f"postgresql-{label}-s{seed}.json")
    raise ValueError(f"the benchmark runs on SQLite or PostgreSQL, not {backend!r}")


def schema_head() -> str:
    from alembic.script import ScriptDirectory

    from chatkeep.settings import Settings

    script = ScriptDirectory.from_config(alembic_config(Settings()))
    return ",".join(sorted(script.get_heads()))


def _admin_dsn(url: str) -> str:
    return (
        make_url(url)
        .set(drivername="postgresql", database="postgres")
        .render_as_string(hide_password=False)
    )


def _remove_sqlite_files(path: Path) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    for suffix in ("", "-wal", "-shm"):
        Path(f"{path}{suffix}").unlink(missing_ok=True)


def _file_exists(path: Path) -> bool:
    return path.exists()
