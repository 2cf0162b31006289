"""Benchmark of documentation rendering: one Model Card (context, Markdown + HTML, PDF) for a
version whose upstream lineage holds about 100 nodes.

    .venv/bin/python bench/docs.py [--repeat 10] [--nodes 100]

It runs on the embedded default: a throw-away SQLite database in a temporary folder (migrated,
with the shipped templates installed by their migration), so it touches no other database.
The lineage is four layers of runs and the dataset versions they produce (each run reads two
dataset versions of the layer before), then a training run reading the last layer, then the
model version. Each figure is the median of
``--repeat`` runs after one warm-up. With ``--redis URL``, it also registers ``--versions``
versions, requests a model card for each and times how long one worker subprocess
(``celery -A config worker --pool=solo``, same SQLite file) takes to finish them all. The last
line printed is
``pdf seconds per document: X.XX`` (target: HTML under 0.5 s, PDF under 3 s).
"""

from __future__ import annotations

import argparse
import os
import statistics
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))


def parse_args() -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--nodes", type=int, default=100, help="lineage nodes upstream")
    parser.add_argument("--repeat", type=int, default=10)
    parser.add_argument(
        "--redis",
        default="",
        help="a Redis URL (e.g. redis://127.0.0.1:6379/14): also measure throughput through a "
        "real worker subprocess",
    )
    parser.add_argument("--versions", type=int, default=100, help="versions for --redis")
    return parser.parse_args()


def throughput(args, folder: Path, owner) -> None:
    """Documents per second through one real worker, for ``args.versions`` versions."""
    import subprocess

    from django.conf import settings

    from accounts.models import Team
    from config.celery import app
    from governance.choices import DocumentStatus
    from governance.models import GeneratedDocument
    from governance.services.documents import document_request
    from registry import services

    model = services.registered_model_create(
        actor=owner, name="bench-many", owner_team=Team.objects.get(slug="bench")
    )
    versions = [
        services.model_version_register(
            actor=owner,
            registered_model=model,
            artifact_uri=f"s3://bench/{n}.pkl",
            artifact_sha256=f"{n:064x}",
            metrics={"auc": 0.8 + n / 1000},
        )
        for n in range(args.versions)
    ]
    queue = f"bench-docs-{os.getpid()}"
    app.conf.update(task_always_eager=False, broker_url=args.redis, task_default_queue=queue)
    env = {
        **os.environ,
        "REDIS_URL": args.redis,
        "STEWARD_DOCUMENTS_ROOT": str(settings.DOCUMENTS_ROOT),
    }
    log = (folder / "worker.log").open("w")
    worker = subprocess.Popen(  # noqa: S603
        [
            sys.executable,
            "-m",
            "celery",
            "-A",
            "config",
            "worker",
            "--pool=solo",
            f"-Q{queue}",
            "--without-gossip",
            "--without-mingle",
            "--without-heartbeat",
            "--loglevel=WARNING",
        ],
        cwd=Path(__file__).resolve().parent.parent,
        env=env,
        stdout=log,
        stderr=subprocess.STDOUT,
    )
    try:
        started = time.perf_counter()
        for version in versions:
            document_request(actor=owner, version=version, template_name="model-card")
        pending = GeneratedDocument.objects.exclude(
            status__in=[DocumentStatus.DONE, DocumentStatus.FAILED]
        ).filter(version__registered_model=model)
        while pending.exists():
            if worker.poll() is not None:
                raise SystemExit(f"the worker stopped; see {folder / 'worker.log'}")
            time.sleep(0.2)
        elapsed = time.perf_counter() - started
    finally:
        worker.terminate()
        worker.wait(30)
    done = GeneratedDocument.objects.filter(
        version__registered_model=model, status=DocumentStatus.DONE
    ).count()
    print(
        f"worker throughput: {done}/{args.versions} model cards done in {elapsed:.1f} s, "
        f"{done / elapsed:.2f} documents/s with one solo worker"
    )


def django_setup(folder: Path) -> None:
    os.environ["DATABASE_URL"] = f"sqlite:///{folder / 'bench.sqlite3'}"
    os.environ["STEWARD_VAR_DIR"] = str(folder)
    os.environ.pop("REDIS_URL", None)
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings")
    os.environ.setdefault(
        "STEWARD_SECRET_KEY", "bench-only-secret-key-never-used-to-sign-anything-0123456789"
    )
    os.environ.setdefault(
        "STEWARD_AUDIT_KEY", "bench-only-audit-key-never-used-to-sign-anything-0123456789"
    )
    import django
    from django.core.management import call_command

    django.setup()
    call_command("migrate", verbosity=0, interactive=False)


# Layers of (runs, the dataset versions they produce): 2 hops each, within the document's
# lineage depth of 10 with the training run on top.
LAYERS = 4


def version_with_lineage(nodes: int):
    """A model version whose upstream lineage has about ``nodes`` nodes."""
    from accounts.models import User
    from accounts.services import team_create
    from registry import services

    owner = User.objects.create_user(username="bench", password=None, is_superuser=True)
    team = team_create(name="Bench", slug="bench")
    dataset = services.dataset_create(actor=owner, name="bench-data", owner_team=team)
    width = max(1, nodes // (2 * LAYERS))
    previous: list = []
    for layer in range(LAYERS):
        current = []
        for index in range(width):
            inputs = [(dv, "input") for dv in previous[index : index + 2] or previous[:2]]
            run = services.run_create(
                actor=owner,
                kind="transformation",
                team=team,
                name=f"{layer}-{index}",
                inputs=inputs,
            )
            step = layer * width + index
            current.append(
                services.dataset_version_create(
                    actor=owner,
                    dataset=dataset,
                    uri=f"s3://bench/{step}.parquet",
                    content_hash=f"{step:064x}",
                    row_count=1000 + step,
                    schema={"columns": [{"name": f"c{i}"} for i in range(8)]},
                    produced_by_run=run,
                )
            )
        previous = current
    run = services.run_create(
        actor=owner,
        kind="training",
        team=team,
        name="train",
        inputs=[(dv, "train") for dv in previous],
    )
    model = services.registered_model_create(actor=owner, name="bench-model", owner_team=team)
    version = services.model_version_register(
        actor=owner,
        registered_model=model,
        artifact_uri="s3://bench/model.pkl",
        artifact_sha256="f" * 64,
        framework="sklearn",
        metrics={"auc": 0.91, "ks": 0.41, "brier": 0.12},
        params={"max_depth": 6, "n_estimators": 300},
        run=run,
        datasets=[(previous[-1], "train")],
    )
    return owner, version


def timed(call, repeat: int) -> tuple[float, object]:
    result = call()  # warm-up
    samples = []
    for _ in range(repeat):
        started = time.perf_counter()
        result = call()
        samples.append(time.perf_counter() - started)
    return statistics.median(samples), result


def main() -> None:
    args = parse_args()
    with tempfile.TemporaryDirectory(prefix="steward-bench-docs-") as folder:
        django_setup(Path(folder))
        from governance.documents.context import version_context
        from governance.documents.render import html_render, markdown_render, pdf_render
        from governance.services.documents import template_current

        owner, version = version_with_lineage(args.nodes)
        template = template_current("model-card")
        context_s, context = timed(
            lambda: version_context(version, template_name=template.name),
            args.repeat,
        )
        title = f"{template.title}: {version}"

        def html() -> str:
            text = markdown_render(title=title, sections=template.sections, context=context)
            return html_render(text, title=title)

        html_s, page = timed(html, args.repeat)
        pdf_s, pdf = timed(lambda: pdf_render(page), args.repeat)
        lineage = context["lineage"]
        print(
            f"version {version}: upstream lineage {lineage['node_count']} nodes, "
            f"{lineage['edge_count']} edges; median of {args.repeat} runs"
        )
        print(f"context (one query pass):       {context_s * 1000:8.1f} ms")
        print(f"markdown + html:                {html_s * 1000:8.1f} ms  (target < 500 ms)")
        print(f"pdf (WeasyPrint, {len(pdf) // 1024} KiB):      {pdf_s * 1000:8.1f} ms")
        total = context_s + html_s + pdf_s
        if args.redis:
            throughput(args, Path(folder), owner)
        print(f"html seconds per document: {context_s + html_s:.2f}")
        print(f"pdf seconds per document: {total:.2f}")


if __name__ == "__main__":
    main()
