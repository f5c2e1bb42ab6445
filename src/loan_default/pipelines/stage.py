"""The one way a stage's nodes become a pipeline: node names under the stage's namespace (for
`kedro viz` and `--namespaces`), dataset names left as the catalog has them."""

from __future__ import annotations

from collections.abc import Iterable

from kedro.pipeline import Node, Pipeline


def stage(
    nodes: Iterable[Node | Pipeline], namespace: str, tags: Iterable[str] | None = None
) -> Pipeline:
    """`nodes` as stage `namespace`: node names prefixed with it, dataset names unchanged (every
    stage reads and writes the catalog's names), each node tagged with `tags`."""
    return Pipeline(nodes, namespace=namespace, prefix_datasets_with_namespace=False, tags=tags)
