"""Project datasets: the I/O that kedro-datasets does not offer as-is."""

from __future__ import annotations

import io

from kedro_datasets.matplotlib import MatplotlibDataset
from PIL import Image


class MatplotlibImageDataset(MatplotlibDataset):
    """Saves a matplotlib figure like MatplotlibDataset, and loads it back as the PNG image.

    One catalog entry per plot can then be previewed by kedro viz, logged to MLflow and embedded
    in the HTML report (MatplotlibDataset itself cannot be loaded).
    """

    def load(self) -> Image.Image:
        """The saved image."""
        path = self._get_load_path().as_posix()
        with self._fs.open(path, mode="rb") as handle:
            image = Image.open(io.BytesIO(handle.read()))
            image.load()
        return image
