"""Serve the registry's champion over REST on 127.0.0.1 (`make serve`; docs/serving.md).

    python scripts/serve.py                    # models:/loan-default@champion on port 5001
    python scripts/serve.py --env spark        # that environment's registered model
    python scripts/serve.py --version 7 --port 8080

The registered model's name and alias come from the environment's globals.yml (their one home)
and the tracking store from MLFLOW_TRACKING_URI, else the project's sqlite:///mlflow.db. It runs
`mlflow models serve` with this virtual environment's `bin` first on PATH (the server execs
`uvicorn` from there), so no activated environment is needed.
"""

from __future__ import annotations

import argparse
import os
import sys
from pathlib import Path

from kedro.framework.session import KedroSession
from kedro.framework.startup import bootstrap_project

PROJECT_ROOT = Path(__file__).resolve().parents[1]


def model_uri(project: Path, env: str | None, version: str | None) -> str:
    """`models:/<registered_model>@<champion_alias>`, or `models:/<name>/<version>`."""
    bootstrap_project(project)
    with KedroSession.create(project_path=project, env=env) as session:
        names = session.load_context().config_loader["globals"]
    name = names["registered_model"]
    return f"models:/{name}/{version}" if version else f"models:/{name}@{names['champion_alias']}"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--env", default=None, help="Kedro environment (default: base/local)")
    parser.add_argument("--version", default=None, help="a registered version (default: alias)")
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", default="5001")
    parser.add_argument("--project", type=Path, default=PROJECT_ROOT, help="Kedro project root")
    args = parser.parse_args()
    os.environ.setdefault("KEDRO_DISABLE_TELEMETRY", "1")
    project = args.project.resolve()
    uri = model_uri(project, args.env, args.version)
    tracking = os.environ.get("MLFLOW_TRACKING_URI") or f"sqlite:///{project / 'mlflow.db'}"
    bin_dir = Path(sys.executable).parent
    env = {
        **os.environ,
        "MLFLOW_TRACKING_URI": tracking,
        "PATH": f"{bin_dir}{os.pathsep}{os.environ.get('PATH', '')}",
    }
    command = [
        str(bin_dir / "mlflow"), "models", "serve", "-m", uri, "--env-manager", "local",
        "--host", args.host, "--port", str(args.port),
    ]  # fmt: skip
    sys.stderr.write(f"Serving {uri} from {tracking} on http://{args.host}:{args.port}\n")
    os.execvpe(command[0], command, env)


if __name__ == "__main__":
    main()
