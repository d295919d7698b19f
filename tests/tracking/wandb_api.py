"""A stand-in for a W&B server's HTTP API that records what clients save.

W&B's own client code runs unmodified against it: the Python SDK and ``wandb-workspaces`` send
their GraphQL through W&B's service process, ``wandb sync`` uploads through the same, all over
HTTP to ``WANDB_BASE_URL``. The stand-in answers the operations those clients make to save
reports and workspace views, upload runs (history stream, run files, artifacts) and resume them
(``use_artifact``), and keeps what they saved: views, runs, artifacts, used artifacts. An
operation it does not know is answered with a GraphQL error and listed in ``unknown``, so a test
sees at once what a client asked that no real server was shown answering.

Answers follow each query's own selection set (fragments, aliases and ``@include`` resolved), so
a handler returns plain records and the client receives exactly the fields it asked for.
"""

import itertools
import json
import threading
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

from graphql import (
    FieldNode,
    FragmentDefinitionNode,
    FragmentSpreadNode,
    InlineFragmentNode,
    OperationDefinitionNode,
    SelectionSetNode,
    parse,
)

ENTITY = "me"
API_KEY = "a" * 40

Record = dict[str, Any]


@dataclass
class Saved:
    """What clients saved on the stand-in."""

    views: dict[str, Record] = field(default_factory=dict)
    projects: dict[str, Record] = field(default_factory=dict)
    runs: dict[tuple[str, str], Record] = field(default_factory=dict)
    artifacts: dict[str, Record] = field(default_factory=dict)
    used: list[Record] = field(default_factory=list)
    history: dict[tuple[str, str], list[Record]] = field(default_factory=dict)
    uploads: dict[str, bytes] = field(default_factory=dict)
    operations: list[str] = field(default_factory=list)
    requests: list[tuple[str, Record]] = field(default_factory=list)
    unknown: list[str] = field(default_factory=list)


class WandbApi:
    """The server: start it, point ``WANDB_BASE_URL`` at ``url``, read ``saved``."""

    def __init__(self) -> None:
        self.saved = Saved()
        self._ids = itertools.count(1)
        self._lock = threading.Lock()
        self._server = ThreadingHTTPServer(("127.0.0.1", 0), _handler(self))
        self.url = f"http://127.0.0.1:{self._server.server_port}"
        self.viewer: Record = {
            "__typename": "User",
            "id": "user-1",
            "name": ENTITY,
            "username": ENTITY,
            "email": f"{ENTITY}@example.org",
            "admin": False,
            "flags": "{}",
            "entity": ENTITY,
            "deletedAt": None,
            "apiKeys": {"edges": []},
            "teams": {"edges": []},
        }

    def views_of_type(self, kind: str) -> list[Record]:
        return [view for view in self.saved.views.values() if view["type"] == kind]

    # -- the wire ------------------------------------------------------------------------------

    def start(self) -> None:
        threading.Thread(target=self._server.serve_forever, daemon=True).start()

    def stop(self) -> None:
        self._server.shutdown()
        self._server.server_close()

    def graphql(self, body: Record) -> Record:
        document = parse(body["query"])
        fragments = {
            d.name.value: d for d in document.definitions if isinstance(d, FragmentDefinitionNode)
        }
        operations = [d for d in document.definitions if isinstance(d, OperationDefinitionNode)]
        wanted = body.get("operationName")
        named = [d for d in operations if d.name is not None and d.name.value == wanted]
        operation = (named or operations)[0]
        name = operation.name.value if operation.name else ""
        variables = body.get("variables") or {}
        handler: Callable[[Record], Record] | None = getattr(self, f"op_{name}", None)
        with self._lock:
            self.saved.operations.append(name)
            self.saved.requests.append((name, variables))
            if handler is None:
                self.saved.unknown.append(name)
                return {"data": None, "errors": [{"message": f"stand-in: no {name}"}]}
            try:
                source = handler(variables)
            except (KeyError, TypeError) as error:  # a request the stand-in cannot read
                self.saved.unknown.append(f"{name}: {error!r}")
                return {"data": None, "errors": [{"message": f"stand-in: {error!r}"}]}
        data = _shape(operation.selection_set, source, fragments, variables)
        return {"data": data}

    def _id(self, prefix: str) -> str:
        return f"{prefix}-{next(self._ids)}"

    def _project(self, entity: str | None, name: str) -> Record:
        project = self.saved.projects.get(name)
        if project is None:
            project = {
                "__typename": "Project",
                "id": self._id("project"),
                "internalId": self._id("internal"),
                "name": name,
                "entityName": entity or ENTITY,
                "entity": {"id": "entity-1", "name": entity or ENTITY},
                "createdAt": "2026-01-01T00:00:00",
                "isBenchmark": False,
                "user": self.viewer,
                "description": "",
                "access": "PRIVATE",
                "views": "{}",
            }
            self.saved.projects[name] = project
        return project

    # -- the SDK's and wandb-workspaces' operations --------------------------------------------

    def op_Viewer(self, _variables: Record) -> Record:
        return {"viewer": self.viewer}

    op_GetViewer = op_Viewer
    op_GetDefaultEntity = op_Viewer

    def op_ServerFeaturesQuery(self, _variables: Record) -> Record:
        return {"serverInfo": {"features": []}}

    def op_GetProjects(self, _variables: Record) -> Record:
        edges = [{"node": project} for project in self.saved.projects.values()]
        return {
            "models": {
                "pageInfo": {"__typename": "PageInfo", "endCursor": None, "hasNextPage": False},
                "edges": edges,
            }
        }

    def op_CreateProject(self, variables: Record) -> Record:
        given = variables["input"]
        project = self._project(given.get("entityName"), given["name"])
        return {"result": {"project": project, "model": project, "inserted": True}}

    def op_ProjectInternalId(self, variables: Record) -> Record:
        return {"project": self.saved.projects.get(variables["projectName"])}

    def op_upsertView(self, variables: Record) -> Record:
        view_id = variables.get("id") or self._id("view")
        project = self._project(variables.get("entityName"), variables["projectName"])
        view = {
            **variables,
            "id": view_id,
            "spec": variables["spec"],
            "project": project,
            "updatedAt": "2026-01-01T00:00:00",
            "createdAt": "2026-01-01T00:00:00",
        }
        inserted = view_id not in self.saved.views
        self.saved.views[view_id] = view
        return {"upsertView": {"view": view, "inserted": inserted}}

    op_UpsertView2 = op_upsertView

    # -- runs: upload, files, resume -----------------------------------------------------------

    def op_UpsertBucket(self, variables: Record) -> Record:
        project = self._project(
            variables.get("entity"), variables.get("project") or "uncategorized"
        )
        key = (project["name"], variables["name"])
        run = self.saved.runs.setdefault(key, {"id": self._id("run"), "historyLineCount": 0})
        run.update({name: value for name, value in variables.items() if value is not None})
        run["project"] = project
        return {"upsertBucket": {"bucket": run, "inserted": True}}

    def op_RunResumeStatus(self, variables: Record) -> Record:
        project = self._project(variables.get("entity"), variables["project"])
        run = self.saved.runs.get((project["name"], variables["name"]))
        bucket = None
        if run is not None:
            rows = self.saved.history.get((project["name"], variables["name"]), [])
            bucket = {
                **run,
                "summaryMetrics": run.get("summaryMetrics") or "{}",
                "historyLineCount": len(rows),
                "logLineCount": 0,
                "eventsLineCount": 0,
                "historyTail": json.dumps([json.dumps(row) for row in rows[-10:]]),
                "eventsTail": "[]",
                "tags": run.get("tags") or [],
                "wandbConfig": json.dumps(_telemetry(run.get("config"))),
            }
        return {"model": {**project, "bucket": bucket}}

    def op_CreateRunFiles(self, variables: Record) -> Record:
        run = variables["run"]
        files = [
            {"name": name, "uploadUrl": self._upload_url(f"{run}/{name}")}
            for name in variables["files"]
        ]
        return {"createRunFiles": {"runID": run, "uploadHeaders": [], "files": files}}

    def op_MarkRunFilesUploaded(self, _variables: Record) -> Record:
        return {"markRunFilesUploaded": {"success": True}}

    def file_stream(self, project: str, run: str, body: Record) -> None:
        lines = body.get("files", {}).get("wandb-history.jsonl", {}).get("content", [])
        with self._lock:
            rows = self.saved.history.setdefault((project, run), [])
            rows.extend(json.loads(line) for line in lines)

    def upload(self, name: str, body: bytes) -> None:
        with self._lock:
            self.saved.uploads[name] = body

    def _upload_url(self, name: str) -> str:
        return f"{self.url}/upload/{name}"

    # -- artifacts -----------------------------------------------------------------------------

    def op_XXHashDigestsEnabled(self, _variables: Record) -> Record:
        return {"entity": {"xxhashDigestsEnabled": False}}

    def op_FetchOrgEntityFromEntity(self, _variables: Record) -> Record:
        return {"entity": {"organization": None}}

    def op_FetchArtifactDigestAlgorithm(self, _variables: Record) -> Record:
        return {"project": None}

    def op_OrganizationCoreWeaveOrganizationID(self, _variables: Record) -> Record:
        return {"entity": {"organization": None}}

    def op_CreateArtifact(self, variables: Record) -> Record:
        given = variables["input"]
        artifact_id = self._id("artifact")
        name = given["artifactCollectionName"]
        project = self._project(given.get("entityName"), given.get("projectName") or "")
        versions = [a for a in self.saved.artifacts.values() if a["name"] == name]
        collection = {"__typename": "ArtifactSequence", "name": name, "project": project}
        artifact = {
            "__typename": "Artifact",
            "id": artifact_id,
            "state": "PENDING",
            "name": name,
            "type": given["artifactTypeName"],
            "artifactType": {"name": given["artifactTypeName"]},
            "versionIndex": len(versions),
            "digest": given.get("digest"),
            "digestAlgorithm": "MANIFEST_MD5",
            "clientID": given.get("clientID"),
            "metadata": given.get("metadata") or "{}",
            "run": given.get("runName"),
            "tags": [],
            "ttlIsInherited": True,
            "ttlDurationSeconds": -2,
            "historyStep": None,
            "size": 0,
            "fileCount": 0,
            "createdAt": "2026-01-01T00:00:00",
            "updatedAt": "2026-01-01T00:00:00",
            "artifactSequence": {**collection, "latestArtifact": None},
            "aliases": [
                {
                    "__typename": "ArtifactAlias",
                    "id": self._id("alias"),
                    "alias": alias["alias"],
                    "artifactCollection": {**collection, "__typename": "ArtifactCollection"},
                }
                for alias in given.get("aliases") or []
            ],
        }
        self.saved.artifacts[artifact_id] = artifact
        return {"createArtifact": {"artifact": artifact}}

    def op_ArtifactType(self, variables: Record) -> Record:
        name = variables["name"].partition(":")[0]
        found = [a for a in self.saved.artifacts.values() if a["name"] == name]
        return {"project": {"artifact": found[-1] if found else None}}

    def op_ArtifactByID(self, variables: Record) -> Record:
        return {"artifact": self.saved.artifacts.get(variables["id"])}

    def op_CreateArtifactManifest(self, variables: Record) -> Record:
        return self._manifest("createArtifactManifest", variables["artifactID"])

    def op_UpdateArtifactManifest(self, variables: Record) -> Record:
        artifact_id = variables["artifactManifestID"].removeprefix("manifest-of-")
        return self._manifest("updateArtifactManifest", artifact_id)

    def _manifest(self, operation: str, artifact_id: str) -> Record:
        upload = self._upload_url(f"{artifact_id}/wandb_manifest.json")
        file = {"id": f"file-of-{artifact_id}", "uploadUrl": upload, "uploadHeaders": []}
        manifest = {"id": f"manifest-of-{artifact_id}", "file": file}
        return {operation: {"artifactManifest": manifest}}

    def op_CreateArtifactFiles(self, variables: Record) -> Record:
        edges = []
        for entry in variables["input"]["artifactFiles"]:
            artifact_id = entry["artifactID"]
            self.saved.artifacts[artifact_id].setdefault("files", []).append(entry["name"])
            node = {
                "storagePath": f"{artifact_id}/{entry['name']}",
                "uploadUrl": self._upload_url(f"{artifact_id}/{entry['name']}"),
                "uploadHeaders": [],
                "uploadMultipartUrls": None,
                "artifact": {"id": artifact_id},
            }
            edges.append({"node": node})
        return {"createArtifactFiles": {"files": {"edges": edges}}}

    def op_CommitArtifact(self, variables: Record) -> Record:
        artifact = self.saved.artifacts[variables["artifactID"]]
        artifact["state"] = "COMMITTED"
        return {"commitArtifact": {"artifact": artifact}}

    def op_UseArtifact(self, variables: Record) -> Record:
        given = variables["input"]
        artifact = self.saved.artifacts[given["artifactID"]]
        self.saved.used.append({**given, "artifact": artifact})
        return {"useArtifact": {"artifact": artifact}}

    def op_ClientIDMapping(self, variables: Record) -> Record:
        found = [a for a in self.saved.artifacts.values() if a["clientID"] == variables["clientID"]]
        return {"clientIDMapping": {"serverID": found[0]["id"]} if found else None}


def _telemetry(config: str | None) -> Record:
    """The ``_wandb`` config key ``t`` a run's client sent: a server answers a resume with it
    (the client resumes only a run that a client initialised)."""
    values = json.loads(config or "{}").get("_wandb", {}).get("value", {})
    return {"t": values["t"]} if "t" in values else {}


def _fields(
    selection: SelectionSetNode, fragments: dict[str, FragmentDefinitionNode], variables: Record
) -> Iterator[FieldNode]:
    """The fields a selection set asks for, with fragments expanded and ``@include`` applied."""
    for node in selection.selections:
        if isinstance(node, FragmentSpreadNode):
            yield from _fields(fragments[node.name.value].selection_set, fragments, variables)
        elif isinstance(node, InlineFragmentNode):
            yield from _fields(node.selection_set, fragments, variables)
        elif isinstance(node, FieldNode) and _included(node, variables):
            yield node


def _included(node: FieldNode, variables: Record) -> bool:
    for directive in node.directives or ():
        argument = directive.arguments[0].value
        value = variables.get(argument.name.value) if hasattr(argument, "name") else True
        if directive.name.value == "include" and not value:
            return False
        if directive.name.value == "skip" and value:
            return False
    return True


def _shape(
    selection: SelectionSetNode | None,
    value: Any,
    fragments: dict[str, FragmentDefinitionNode],
    variables: Record,
) -> Any:
    """``value`` cut to what ``selection`` asks for (a missing field is null)."""
    if selection is None or value is None:
        return value
    if isinstance(value, list):
        return [_shape(selection, item, fragments, variables) for item in value]
    shaped = {}
    for node in _fields(selection, fragments, variables):
        name = node.name.value
        key = node.alias.value if node.alias else name
        shaped[key] = _shape(node.selection_set, value.get(name), fragments, variables)
    return shaped


def _handler(api: WandbApi) -> type[BaseHTTPRequestHandler]:
    class Handler(BaseHTTPRequestHandler):
        def log_message(self, *_args: Any) -> None:
            pass

        def _body(self) -> bytes:
            return self.rfile.read(int(self.headers.get("Content-Length") or 0))

        def _answer(self, payload: Record | None) -> None:
            data = json.dumps(payload if payload is not None else {}).encode()
            self.send_response(200)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(data)))
            self.end_headers()
            self.wfile.write(data)

        def do_POST(self) -> None:
            body = self._body()
            if self.path.startswith("/graphql"):
                self._answer(api.graphql(json.loads(body)))
            elif self.path.endswith("/file_stream"):
                project, run = self.path.split("/")[-3:-1]
                api.file_stream(project, run, json.loads(body))
                self._answer({"exitcode": None, "limits": {}})
            else:  # the SDK's own telemetry: accepted, not kept
                self._answer({})

        def do_PUT(self) -> None:
            api.upload(self.path.removeprefix("/upload/"), self._body())
            self._answer({})

    return Handler


@contextmanager
def serving() -> Iterator[WandbApi]:
    api = WandbApi()
    api.start()
    try:
        yield api
    finally:
        api.stop()
