"""Type stubs for the compiled module opticore._core (pybind11 over opticore::core).

Kept in the tree by hand; tests/python/test_package.py checks that it names exactly what the
module exports. Use the documented wrappers in ``opticore`` rather than these functions.
"""

from typing import Any, Dict, Literal, Optional, Sequence, Tuple, Union

import numpy as np
import numpy.typing as npt

__version__: str
MAX_NUM_THREADS: int
MAX_ARRAY_BYTES: int

def get_num_threads() -> int: ...
def set_num_threads(n: int) -> None: ...
def check_array_size(name: str, shape: Sequence[int], item_bytes: int) -> None: ...
def build_info() -> Dict[str, Any]: ...
def box_area(boxes: np.ndarray) -> np.ndarray: ...
def roi_align(
    input: np.ndarray,
    rois: np.ndarray,
    pooled_height: int,
    pooled_width: int,
    spatial_scale: float,
    sampling_ratio: int,
    aligned: bool,
) -> np.ndarray: ...
def roi_pool(
    input: np.ndarray, rois: np.ndarray, pooled_height: int, pooled_width: int, spatial_scale: float
) -> Tuple[np.ndarray, np.ndarray]: ...
def ps_roi_align(
    input: np.ndarray, rois: np.ndarray, pooled_height: int, pooled_width: int, spatial_scale: float,
    sampling_ratio: int,
) -> np.ndarray: ...
def ps_roi_pool(
    input: np.ndarray, rois: np.ndarray, pooled_height: int, pooled_width: int, spatial_scale: float
) -> np.ndarray: ...
def box_iou(boxes1: np.ndarray, boxes2: np.ndarray) -> np.ndarray: ...
def box_iou_variant(boxes1: np.ndarray, boxes2: np.ndarray, kind: str, eps: float) -> np.ndarray: ...
def box_loss(boxes1: np.ndarray, boxes2: np.ndarray, kind: str, eps: float) -> np.ndarray: ...
def nms(
    boxes: np.ndarray,
    scores: np.ndarray,
    iou_threshold: float,
    *,
    score_threshold: Optional[float] = None,
    max_output: Optional[int] = None,
) -> npt.NDArray[np.int64]: ...
def nms_min(boxes: np.ndarray, scores: np.ndarray, threshold: float) -> npt.NDArray[np.int64]: ...
def batched_nms(
    boxes: np.ndarray,
    scores: np.ndarray,
    labels: np.ndarray,
    iou_threshold: float,
    *,
    score_threshold: Optional[float] = None,
    max_output: Optional[int] = None,
) -> npt.NDArray[np.int64]: ...
def soft_nms(
    boxes: np.ndarray,
    scores: np.ndarray,
    *,
    method: str = "gaussian",
    sigma: float = 0.5,
    iou_threshold: float = 0.3,
    score_threshold: float = 0.001,
    max_output: Optional[int] = None,
) -> Tuple[npt.NDArray[np.int64], np.ndarray]: ...
def umeyama(src: np.ndarray, dst: np.ndarray, *, estimate_scale: bool = True) -> npt.NDArray[np.float64]: ...
def arcface_template(size: int) -> npt.NDArray[np.float64]: ...
def mean_shape68(size: int) -> npt.NDArray[np.float64]: ...
def warp_affine(
    image: np.ndarray,
    M: Any,
    dsize: Tuple[int, int],
    interpolation: str = "linear",
    border_mode: str = "constant",
    border_value: Union[float, Sequence[float]] = 0,
) -> np.ndarray: ...
def remap(
    image: np.ndarray,
    map_x: np.ndarray,
    map_y: np.ndarray,
    interpolation: str = "linear",
    border_mode: str = "constant",
    border_value: Union[float, Sequence[float]] = 0,
) -> np.ndarray: ...
def resize(image: np.ndarray, dsize: Tuple[int, int], interpolation: str = "linear") -> np.ndarray: ...
def crop_resize(
    image: np.ndarray, boxes: np.ndarray, out_size: Tuple[int, int], interpolation: str = "linear"
) -> np.ndarray: ...
def fourier_spectrum(
    images: np.ndarray, out_size: Optional[Tuple[int, int]] = None, color: str = "bgr"
) -> npt.NDArray[np.float32]: ...
def random_warp(
    image: np.ndarray,
    jitter: npt.NDArray[np.float64],
    grid: int,
    coverage: float,
    noise: float,
    out_size: int,
    border_mode: str = "replicate",
    border_value: Union[float, Sequence[float]] = 0,
) -> Tuple[np.ndarray, np.ndarray, npt.NDArray[np.float64]]: ...
def fhog(image: np.ndarray, cell_size: int = 4) -> npt.NDArray[np.float32]: ...

class MosseParams:
    _fields: Tuple[str, ...]
    learning_rate: float
    sigma: float
    regularization: float
    perturbations: int
    psr_threshold: float
    max_patch_side: int
    seed: int
    def __init__(self, **params: Any) -> None: ...

class KcfParams:
    _fields: Tuple[str, ...]
    features: Literal["hog", "gray", "hog+gray"]
    kernel: Literal["gaussian", "linear"]
    scale: Literal["dsst", "none"]
    padding: float
    regularization: float
    output_sigma_factor: float
    interp_factor: Optional[float]
    kernel_sigma: Optional[float]
    cell_size: Optional[int]
    template_size: int
    psr_threshold: float
    num_scales: int
    scale_step: float
    scale_sigma_factor: float
    scale_learning_rate: float
    scale_regularization: float
    scale_model_max_area: int
    def __init__(self, **params: Any) -> None: ...

class Tracker:
    def __init__(self, params: Union[MosseParams, KcfParams]) -> None: ...
    def init(self, image: np.ndarray, box: Any) -> None: ...
    def update(self, image: np.ndarray) -> Tuple[bool, Tuple[float, float, float, float], float]: ...
    @property
    def initialized(self) -> bool: ...
    @property
    def score(self) -> float: ...
    @property
    def ok(self) -> bool: ...
    @property
    def box(self) -> Tuple[float, float, float, float]: ...
    @property
    def params(self) -> Union[MosseParams, KcfParams]: ...

# Multi-object tracking (bind_mot.cpp)
def linear_assignment(
    cost: np.ndarray, max_cost: Optional[float] = None
) -> Tuple[npt.NDArray[np.int64], npt.NDArray[np.int64]]: ...
def kalman_initiate(
    boxes: np.ndarray, std_weight_position: float, std_weight_velocity: float
) -> Tuple[npt.NDArray[np.float64], npt.NDArray[np.float64]]: ...
def kalman_predict(
    mean: np.ndarray, covariance: np.ndarray, std_weight_position: float, std_weight_velocity: float
) -> Tuple[npt.NDArray[np.float64], npt.NDArray[np.float64]]: ...
def kalman_update(
    mean: np.ndarray,
    covariance: np.ndarray,
    boxes: np.ndarray,
    std_weight_position: float,
    std_weight_velocity: float,
) -> Tuple[npt.NDArray[np.float64], npt.NDArray[np.float64]]: ...

_TrackArrays = Tuple[
    npt.NDArray[np.float64],
    npt.NDArray[np.int64],
    npt.NDArray[np.float64],
    npt.NDArray[np.int64],
    npt.NDArray[np.int64],
    npt.NDArray[np.int8],
    npt.NDArray[np.int64],
]

class MultiTracker:
    def __init__(self, **params: Any) -> None: ...
    def update(
        self,
        boxes: np.ndarray,
        scores: np.ndarray,
        labels: Optional[np.ndarray] = None,
        camera_motion: Optional[np.ndarray] = None,
    ) -> _TrackArrays: ...
    def tracks(self) -> _TrackArrays: ...
    def reset(self) -> None: ...
    @property
    def params(self) -> Dict[str, Any]: ...
    @property
    def frame_count(self) -> int: ...
