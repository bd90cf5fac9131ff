"""A stack whose one resource is a Python dynamic resource: a file with given content.

Small on purpose: it proves the engine, the language host, the dynamic-provider plugin,
the file backend and encrypted config, without a lab."""

from pathlib import Path
from typing import Any

import pulumi
from pulumi.dynamic import CreateResult, DiffResult, ReadResult, Resource, ResourceProvider


class MarkerProvider(ResourceProvider):
    def create(self, props: dict[str, Any]) -> CreateResult:
        Path(props["path"]).write_text(props["content"])
        return CreateResult(id_=props["path"], outs=dict(props))

    def diff(self, _id: str, olds: dict[str, Any], news: dict[str, Any]) -> DiffResult:
        replaces = ["path"] if olds.get("path") != news.get("path") else []
        changed = any(olds.get(k) != news.get(k) for k in ("path", "content"))
        return DiffResult(changes=changed, replaces=replaces, delete_before_replace=True)

    def update(self, _id: str, _olds: dict[str, Any], news: dict[str, Any]) -> Any:
        Path(news["path"]).write_text(news["content"])
        return pulumi.dynamic.UpdateResult(outs=dict(news))

    def read(self, id_: str, props: dict[str, Any]) -> ReadResult:
        path = Path(id_)
        content = path.read_text() if path.exists() else ""
        return ReadResult(id_=id_, outs={**props, "path": id_, "content": content})

    def delete(self, id_: str, _props: dict[str, Any]) -> None:
        Path(id_).unlink(missing_ok=True)


class Marker(Resource):
    path: pulumi.Output[str]

    def __init__(self, name: str, path: str, content: pulumi.Input[str]) -> None:
        super().__init__(MarkerProvider(), name, {"path": path, "content": content})


config = pulumi.Config("marker")
token = config.require_secret("token")
marker = Marker("marker", config.require("path"), token.apply(lambda t: f"token-length={len(t)}"))
pulumi.export("path", marker.path)
