import os
import sys

import numpy as np
import pytest

# The tests import the independent references next to them as `reference`.
sys.path.insert(0, os.path.dirname(__file__))


@pytest.fixture(scope="module")
def astronaut():
    """scikit-image's astronaut as a BGR uint8 frame (the tracker tests' scene)."""
    skimage_data = pytest.importorskip("skimage.data")
    return np.ascontiguousarray(skimage_data.astronaut()[..., ::-1])
