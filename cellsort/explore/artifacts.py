"""Where trial students go when workers share no file system: the study's artifact store.

Each complete trial zips its student artifact folder and uploads it through Optuna's artifact
API (``optuna.artifacts.upload_artifact``) to the store the study records (study attribute
``artifact_store``), so whoever writes the front finds every trial's student:

- ``database`` (RDB storages, the default): a table ``cellsort_artifacts`` in the study's own
  database (SQLite, PostgreSQL, MySQL), so the database server is the only thing workers share;
- ``folder``: a folder every worker can read and write (an NFS mount, or beside a journal file,
  the default for journal storages), through ``optuna.artifacts.FileSystemArtifactStore``.
"""
from __future__ import annotations

import io
import shutil
import tempfile
import zipfile
from pathlib import Path

from cellsort.errors import DataError


class DatabaseArtifactStore:
    """An Optuna artifact store in a table of the study's database (SQLAlchemy engine)."""

    TABLE = "cellsort_artifacts"

    def __init__(self, engine):
        from sqlalchemy import Column, LargeBinary, MetaData, String, Table, inspect
        from sqlalchemy.exc import DatabaseError

        self.engine = engine
        meta = MetaData()
        self.table = Table(self.TABLE, meta, Column("artifact_id", String(64), primary_key=True),
                           Column("body", LargeBinary, nullable=False))
        try:  # workers starting together race to create it: whoever loses finds it made
            meta.create_all(engine, checkfirst=False)
        except DatabaseError:
            if not inspect(engine).has_table(self.TABLE):
                raise

    def open_reader(self, artifact_id: str):
        from optuna.artifacts.exceptions import ArtifactNotFound
        from sqlalchemy import select

        with self.engine.connect() as conn:
            row = conn.execute(select(self.table.c.body).where(self.table.c.artifact_id == artifact_id)).first()
        if row is None:
            raise ArtifactNotFound(f"artifact {artifact_id} is not in {self.TABLE}")
        return io.BytesIO(row[0])

    def write(self, artifact_id: str, content_body) -> None:
        with self.engine.begin() as conn:
            conn.execute(self.table.insert().values(artifact_id=artifact_id, body=content_body.read()))

    def remove(self, artifact_id: str) -> None:
        with self.engine.begin() as conn:
            conn.execute(self.table.delete().where(self.table.c.artifact_id == artifact_id))


def store_spec(storage_url: str, folder: str | None = None) -> dict:
    """The store a new study records: ``folder`` when given, else ``database`` for RDB
    storages and a folder beside the journal file for journal storages."""
    if folder:
        return {"kind": "folder", "path": str(Path(folder).resolve())}
    if storage_url.startswith("journal://"):
        return {"kind": "folder", "path": str(Path(storage_url[len("journal://"):]).resolve().parent / "artifacts")}
    return {"kind": "database"}


def open_store(spec: dict, storage):
    """The artifact store a study's ``spec`` names."""
    if spec.get("kind") == "database":
        return DatabaseArtifactStore(storage.engine)
    from optuna.artifacts import FileSystemArtifactStore

    path = Path(spec["path"])
    path.mkdir(parents=True, exist_ok=True)
    return FileSystemArtifactStore(str(path))


def upload_folder(store, trial, folder: Path) -> str:
    """Zip ``folder`` and upload it for ``trial``; returns the artifact id."""
    import optuna

    with tempfile.TemporaryDirectory() as tmp:
        archive = shutil.make_archive(str(Path(tmp) / "student"), "zip", root_dir=folder)
        return optuna.artifacts.upload_artifact(artifact_store=store, file_path=archive,
                                                study_or_trial=trial)


def download_folder(store, artifact_id: str, folder: Path) -> Path:
    """Fetch an uploaded folder into ``folder`` (which must not exist)."""
    import optuna

    with tempfile.TemporaryDirectory() as tmp:
        archive = Path(tmp) / "student.zip"
        optuna.artifacts.download_artifact(artifact_store=store, file_path=str(archive),
                                           artifact_id=artifact_id)
        with zipfile.ZipFile(archive) as zf:
            if any(Path(n).is_absolute() or ".." in Path(n).parts for n in zf.namelist()):
                raise DataError(f"artifact {artifact_id}: holds paths outside its folder")
            staging = folder.with_name(folder.name + ".part")
            shutil.rmtree(staging, ignore_errors=True)
            zf.extractall(staging)
            staging.rename(folder)
    return folder
