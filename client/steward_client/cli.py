"""The ``steward`` command. Every read command takes ``--json``; otherwise it prints a table or
a short summary. Errors print Steward's message and field errors on stderr and exit 1 (2 for
a mistyped command line), never a traceback."""

from __future__ import annotations

import argparse
import getpass
import json
import os
import platform
import sys
from collections.abc import Callable
from typing import Any

from steward_client import __version__
from steward_client.config import Settings, config_path, read_config_file, write_config_file
from steward_client.display import GovernanceStatus, Lineage, table
from steward_client.errors import ConfigurationError, LocalInputError, StewardError
from steward_client.records_io import read_records
from steward_client.transport import Transport

EXIT_ERROR = 1
EXIT_USAGE = 2
LOGIN_SCOPES = ["read", "write", "submit", "annotate"]


def _out(text: str = "") -> None:
    sys.stdout.write(text + "\n")


def _json(value: Any) -> None:
    _out(json.dumps(value, indent=2, default=str))


def _client(args):
    from steward_client.client import Steward

    return Steward(ca_bundle=getattr(args, "ca_bundle", None))


def _key_values(pairs: list[str], what: str, convert: Callable[[str], Any]) -> dict:
    result = {}
    for pair in pairs or []:
        key, sep, value = pair.partition("=")
        if not sep or not key:
            raise LocalInputError(f"--{what} takes KEY=VALUE, not {pair!r}.")
        try:
            result[key] = convert(value)
        except ValueError:
            raise LocalInputError(f"--{what} {key}: {value!r} is not a number.") from None
    return result


def _param_value(text: str) -> Any:
    try:
        return json.loads(text)
    except ValueError:
        return text


# --- commands --------------------------------------------------------------------------------


def cmd_login(args) -> int:
    stored = read_config_file()
    url = args.url or os.environ.get("STEWARD_URL") or stored.get("url")
    if not url:
        url = input("Steward URL (https://...): ").strip()
    if not url.startswith(("http://", "https://")):
        raise ConfigurationError(f"The URL must start with https:// ({url!r}).")
    verify: bool | str = args.ca_bundle or stored.get("ca_bundle") or True
    if isinstance(verify, str) and not os.path.exists(verify):
        raise ConfigurationError(f"The CA bundle {verify} does not exist.")
    token = args.token or os.environ.get("STEWARD_TOKEN") if not args.username else None
    if not token:
        username = args.username or input("Username: ").strip()
        password = os.environ.get("STEWARD_PASSWORD") or getpass.getpass("Password: ")
        transport = Transport(Settings(url=url.rstrip("/"), token="", verify=verify))
        created = transport.json(
            "POST",
            "tokens/",
            json={"name": args.token_name or _token_name(), "scopes": args.scopes.split(",")},
            auth=(username, password),
        )
        token = created["secret"]
    transport = Transport(Settings(url=url.rstrip("/"), token=token, verify=verify))
    me = transport.json("GET", "me/")
    values = {"url": url.rstrip("/"), "token": token}
    if isinstance(verify, str):
        values["ca_bundle"] = os.path.abspath(verify)
    path = write_config_file(values)
    _out(f"Signed in to {url} as {me['username']}; the token is in {path} (readable by you only).")
    return 0


def _token_name() -> str:
    return f"steward-cli@{platform.node() or 'host'}"[:100]


def cmd_whoami(args) -> int:
    me = _client(args).me()
    if args.json:
        _json(me)
        return 0
    roles = ", ".join(
        r["role"] + (f"@{r['team']}" if r.get("team") else "") for r in me.get("roles", [])
    )
    _out(f"{me['username']} ({me.get('display_name') or me.get('email') or 'no name'})")
    _out(f"teams: {', '.join(me.get('teams', [])) or 'none'}")
    _out(f"roles: {roles or 'none'}")
    return 0


def cmd_models_list(args) -> int:
    models = _client(args).models(search=args.search, limit=args.limit)
    if args.json:
        _json(models)
    else:
        columns = ["name", "owner_team", "risk_tier", "version_count", "latest_version"]
        _out(table(models, columns))
    return 0


def cmd_models_show(args) -> int:
    model = _client(args).model(args.name)
    if args.json:
        _json(model)
    else:
        for key, value in model.items():
            _out(f"{key}: {value}")
    return 0


def _version_summary(version) -> None:
    _out(f"{version['model']} v{version['version']} ({version['status']})")
    for key in ("artifact_sha256", "artifact_uri", "framework", "run", "code_repository"):
        if version.get(key):
            _out(f"  {key}: {version[key]}")
    if version.get("code_commit"):
        _out(f"  code_commit: {version['code_commit']}  path: {version.get('code_path', '')}")
    for use in version.get("datasets", []):
        _out(f"  dataset: {use['dataset']} v{use['version']} ({use['role']})")
    if version.get("metrics"):
        _out(f"  metrics: {json.dumps(version['metrics'])}")


def cmd_versions_register(args) -> int:
    datasets: dict[str, list[str]] = {}
    for pair in args.dataset or []:
        role, sep, path = pair.partition("=")
        if not sep:
            raise LocalInputError(f"--dataset takes ROLE=PATH (train=train.csv), not {pair!r}.")
        datasets.setdefault(role, []).append(path)
    version = _client(args).register_version(
        args.model,
        args.artifact,
        artifact_sha256=args.artifact_sha256,
        datasets=datasets,
        metrics=_key_values(args.metric, "metric", float),
        params=_key_values(args.param, "param", _param_value),
        description=args.description or "",
        framework=args.framework or "",
        team=args.team,
        capture=not args.no_capture,
    )
    if args.json:
        _json(version)
    else:
        _out("Registered:")
        _version_summary(version)
    return 0


def cmd_versions_show(args) -> int:
    version = _client(args).version(args.model, args.version)
    if args.json:
        _json(version)
    else:
        _version_summary(version)
    return 0


def cmd_versions_status(args) -> int:
    status: GovernanceStatus = _client(args).status(args.model, args.version)
    if args.json:
        _json({**status, "whose_turn": status.whose_turn})
    else:
        _out(f"{args.model} v{args.version}")
        for line in status.lines():
            _out(f"  {line}")
    return 0


def cmd_submit(args) -> int:
    decision = _client(args).submit(args.model, args.version, args.motivation)
    if args.json:
        _json(decision)
    else:
        _out(
            f"{args.model} v{args.version}: {decision['from_state']} -> {decision['to_state']} "
            f"({decision['action']} by {decision['actor']})"
        )
    return 0


def cmd_lineage(args) -> int:
    graph: Lineage = _client(args).lineage(
        args.model, args.version, direction=args.direction, depth=args.depth
    )
    if args.json:
        _json(graph)
    else:
        for line in graph.lines():
            _out(line)
    return 0


def cmd_docs_generate(args) -> int:
    document = _client(args).generate_document(
        args.model, args.version, args.template, wait=args.wait, timeout=args.timeout
    )
    if args.json:
        _json(document)
    else:
        _out(f"document {document['id']} ({document['template']}): {document['status']}")
        if document.get("error"):
            _out(f"  error: {document['error']}")
    return 1 if document.get("status") == "failed" else 0


def cmd_docs_download(args) -> int:
    path = _client(args).download_document(
        args.model,
        args.version,
        document=args.id,
        template=args.template,
        format=args.format,
        path=args.output,
    )
    _out(f"saved {path}")
    return 0


def _batch_report(result, args, counts: list[str]) -> int:
    if args.json:
        _json(result)
    else:
        _out(", ".join(f"{result[k]} {k}" for k in counts) + f" in {result['batches']} batch(es)")
        for error in result.errors[:20]:
            where = f"record {error.get('index')} ({error.get('request_id', '')})"
            _out(f"  {where}: {error.get('errors')}")
        if len(result.errors) > 20:
            _out(f"  ... and {len(result.errors) - 20} more")
    if result.errors:
        sys.stderr.write(f"steward: {len(result.errors)} record(s) were refused\n")
        return EXIT_ERROR
    return 0


def cmd_predictions_log(args) -> int:
    result = _client(args).log_predictions(
        args.deployment, read_records(args.file), batch_size=args.batch_size
    )
    return _batch_report(result, args, ["accepted", "duplicates", "rejected"])


def cmd_feedback_log(args) -> int:
    result = _client(args).log_feedback(
        args.deployment, read_records(args.file), batch_size=args.batch_size
    )
    if not args.json and result["unknown_request_ids"]:
        _out(f"unknown request ids: {', '.join(result['unknown_request_ids'][:20])}")
    return _batch_report(result, args, ["updated", "unchanged", "rejected"])


# --- the parser ------------------------------------------------------------------------------


class _Parser(argparse.ArgumentParser):
    def error(self, message: str):  # exit 2 with a one-line message, as argparse does
        self.print_usage(sys.stderr)
        self.exit(EXIT_USAGE, f"steward: error: {message}\n")


def _reader(sub, name: str, help_text: str, handler) -> argparse.ArgumentParser:
    parser = sub.add_parser(name, help=help_text, description=help_text)
    parser.add_argument("--json", action="store_true", help="print the answer as JSON")
    parser.set_defaults(handler=handler)
    return parser


def _model_version(parser) -> None:
    parser.add_argument("model", help="registered model name")
    parser.add_argument("version", type=int, help="version number")


def build_parser() -> argparse.ArgumentParser:
    parser = _Parser(
        prog="steward",
        description="Steward from the command line: register versions with their provenance, "
        "follow governance, log predictions. Configure with STEWARD_URL and STEWARD_TOKEN, or "
        "`steward login`.",
    )
    parser.add_argument("--version", action="version", version=f"steward-client {__version__}")
    parser.add_argument("--ca-bundle", help="CA bundle for the server's certificate")
    sub = parser.add_subparsers(dest="command", required=True, parser_class=_Parser)

    login = sub.add_parser("login", help="store the server URL and a token for later commands")
    login.add_argument("--url", help="Steward's URL, e.g. https://steward.example.com")
    login.add_argument("--token", help="an API token (else one is created with your password)")
    login.add_argument("--username", help="sign in with this user and a password to get a token")
    login.add_argument("--token-name", help="name of the token created (default steward-cli@host)")
    login.add_argument("--scopes", default=",".join(LOGIN_SCOPES), help="scopes of that token")
    login.set_defaults(handler=cmd_login)
    _reader(sub, "whoami", "who the configured token belongs to", cmd_whoami)

    models = sub.add_parser("models", help="registered models").add_subparsers(
        dest="action", required=True, parser_class=_Parser
    )
    listing = _reader(models, "list", "models you may see", cmd_models_list)
    listing.add_argument("--search")
    listing.add_argument("--limit", type=int)
    _reader(models, "show", "one model", cmd_models_show).add_argument("name")

    versions = sub.add_parser("versions", help="model versions").add_subparsers(
        dest="action", required=True, parser_class=_Parser
    )
    register = versions.add_parser(
        "register", help="register a version with its provenance captured here"
    )
    register.add_argument("model")
    register.add_argument("--artifact", help="model file (uploaded unless Steward has it) or URI")
    register.add_argument("--artifact-sha256", help="declared hash of a remote artifact URI")
    register.add_argument(
        "--dataset", action="append", metavar="ROLE=PATH", help="train=data/train.csv (repeat)"
    )
    register.add_argument("--metric", action="append", metavar="NAME=NUMBER")
    register.add_argument("--param", action="append", metavar="NAME=VALUE")
    register.add_argument("--description")
    register.add_argument("--framework")
    register.add_argument("--team", help="owning team when the model is new")
    register.add_argument("--no-capture", action="store_true", help="do not capture git and env")
    register.add_argument("--json", action="store_true")
    register.set_defaults(handler=cmd_versions_register)
    _model_version(_reader(versions, "show", "a version and its provenance", cmd_versions_show))
    _model_version(
        _reader(versions, "status", "governance: state, blockers, whose turn", cmd_versions_status)
    )

    submit = sub.add_parser("submit", help="submit a version for validation")
    _model_version(submit)
    submit.add_argument("-m", "--motivation", required=True, help="why it is ready")
    submit.add_argument("--json", action="store_true")
    submit.set_defaults(handler=cmd_submit)

    lineage = _reader(sub, "lineage", "upstream and downstream of a version", cmd_lineage)
    _model_version(lineage)
    lineage.add_argument("--direction", choices=["upstream", "downstream", "both"], default="both")
    lineage.add_argument("--depth", type=int)

    docs = sub.add_parser("docs", help="generated documentation").add_subparsers(
        dest="action", required=True, parser_class=_Parser
    )
    generate = _reader(docs, "generate", "generate a document", cmd_docs_generate)
    _model_version(generate)
    generate.add_argument("--template", default="model-card")
    generate.add_argument("--wait", action="store_true", help="wait until it is done")
    generate.add_argument("--timeout", type=float, default=300.0)
    download = docs.add_parser("download", help="download a done document")
    _model_version(download)
    download.add_argument("--template", default="model-card")
    download.add_argument("--format", choices=["pdf", "md", "html"], default="pdf")
    download.add_argument("--id", type=int, help="a document id (default: the newest done)")
    download.add_argument("-o", "--output", help="file to write")
    download.set_defaults(handler=cmd_docs_download)

    for noun, handler, what in (
        ("predictions", cmd_predictions_log, "log predictions (a serving gateway's account)"),
        ("feedback", cmd_feedback_log, "log ground truth for logged predictions"),
    ):
        group = sub.add_parser(noun, help=what).add_subparsers(
            dest="action", required=True, parser_class=_Parser
        )
        log = group.add_parser("log", help=what)
        log.add_argument("deployment")
        log.add_argument("file", help=".jsonl, .json or .csv")
        log.add_argument("--batch-size", type=int, default=1000)
        log.add_argument("--json", action="store_true")
        log.set_defaults(handler=handler)
    return parser


def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    try:
        return args.handler(args)
    except StewardError as exc:
        sys.stderr.write(f"steward: error: {exc}\n")
        return EXIT_ERROR
    except KeyboardInterrupt:
        sys.stderr.write("steward: interrupted\n")
        return 130
    except (OSError, ValueError) as exc:
        # A file that cannot be read or written, a malformed value: said, not traced.
        sys.stderr.write(f"steward: error: {exc}\n")
        return EXIT_ERROR
    except Exception as exc:  # noqa: BLE001 - the promise is: never a traceback
        if os.environ.get("STEWARD_DEBUG"):
            raise
        sys.stderr.write(
            f"steward: unexpected error: {type(exc).__name__}: {exc} "
            "(set STEWARD_DEBUG=1 to see where)\n"
        )
        return EXIT_ERROR


if __name__ == "__main__":
    sys.exit(main())


__all__ = ["build_parser", "config_path", "main"]
