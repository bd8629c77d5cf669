"""umeyama against scikit-image's SimilarityTransform / EuclideanTransform."""

from __future__ import annotations

import warnings

import numpy as np
import pytest

import opticore

transform = pytest.importorskip("skimage.transform")


def skimage_params(src, dst, estimate_scale=True):
    cls = transform.SimilarityTransform if estimate_scale else transform.EuclideanTransform
    dim = src.shape[1]
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", FutureWarning)  # estimate() is deprecated in 0.26
        t = cls(dimensionality=dim)
        assert t.estimate(src, dst)
    return t.params


def random_rotation(rng, dim):
    q, r = np.linalg.qr(rng.normal(size=(dim, dim)))
    q *= np.sign(np.diag(r))
    if np.linalg.det(q) < 0:
        q[:, 0] *= -1
    return q


def point_sets(rng, n, dim, case):
    src = rng.normal(size=(n, dim)) * 50
    if case == "exact":
        dst = 1.7 * src @ random_rotation(rng, dim).T + rng.normal(size=dim) * 20
    elif case == "noisy":
        dst = 0.6 * src @ random_rotation(rng, dim).T + 5 + rng.normal(size=(n, dim)) * 3
    elif case == "reflected":
        mirror = np.eye(dim)
        mirror[0, 0] = -1
        dst = src @ mirror @ random_rotation(rng, dim).T + rng.normal(size=(n, dim))
    elif case == "unrelated":
        dst = rng.normal(size=(n, dim)) * 10
    else:
        raise AssertionError(case)
    return src, dst


@pytest.mark.parametrize("dim", [2, 3, 4])
@pytest.mark.parametrize("case", ["exact", "noisy", "reflected", "unrelated"])
@pytest.mark.parametrize("estimate_scale", [True, False])
def test_matches_scikit_image(dim, case, estimate_scale):
    rng = np.random.default_rng(dim * 10 + len(case))
    for n in (dim + 1, 5, 68):
        src, dst = point_sets(rng, n, dim, case)
        got = opticore.umeyama(src, dst, estimate_scale=estimate_scale)
        assert got.shape == (dim + 1, dim + 1) and got.dtype == np.float64
        np.testing.assert_allclose(got, skimage_params(src, dst, estimate_scale), rtol=0, atol=1e-9)


def test_exact_similarity_is_recovered_and_rotation_is_proper():
    rng = np.random.default_rng(1)
    src, dst = point_sets(rng, 10, 2, "reflected")
    m = opticore.umeyama(src, dst)
    assert np.linalg.det(m[:2, :2]) > 0  # a rotation, never a reflection
    src = rng.normal(size=(5, 2))
    angle = 0.3
    r = np.array([[np.cos(angle), -np.sin(angle)], [np.sin(angle), np.cos(angle)]])
    m = opticore.umeyama(src, 2.5 * src @ r.T + [7, -3])
    np.testing.assert_allclose(
        m, [[2.5 * r[0, 0], 2.5 * r[0, 1], 7], [2.5 * r[1, 0], 2.5 * r[1, 1], -3], [0, 0, 1]], atol=1e-12
    )


def test_batch_equals_loop_and_marks_degenerate_sets_nan():
    rng = np.random.default_rng(2)
    src = rng.normal(size=(300, 5, 2)) * 30
    dst = src @ random_rotation(rng, 2).T * 1.3 + rng.normal(size=(300, 5, 2))
    src[7] = 4.0  # all points equal
    dst[9] = src[9, 0]  # dst collapsed to a point
    batch = opticore.umeyama(src, dst)
    assert batch.shape == (300, 3, 3)
    for b in range(300):
        if b in (7, 9):
            assert np.isnan(batch[b]).all()
        else:
            np.testing.assert_allclose(batch[b], skimage_params(src[b], dst[b]), atol=1e-9)


def test_degenerate_single_set_raises():
    pts = np.ones((5, 2))
    with pytest.raises(ValueError, match="degenerate"):
        opticore.umeyama(pts, pts)
    line = np.stack([np.arange(5.0), 2 * np.arange(5.0), np.zeros(5)], axis=1)  # collinear in 3-D
    with pytest.raises(ValueError, match="degenerate"):
        opticore.umeyama(line, line + 1)
    # Collinear in 2-D is fine: two distinct points fix a similarity.
    line2 = line[:, :2]
    np.testing.assert_allclose(opticore.umeyama(line2, line2 * 2), skimage_params(line2, line2 * 2), atol=1e-9)


def test_float32_non_contiguous_and_mixed_inputs():
    rng = np.random.default_rng(3)
    src, dst = point_sets(rng, 20, 2, "noisy")
    expected = skimage_params(src, dst)
    wide = np.zeros((20, 4))
    wide[:, ::2] = src
    np.testing.assert_allclose(opticore.umeyama(wide[:, ::2], dst[::-1][::-1]), expected, atol=1e-9)
    np.testing.assert_allclose(opticore.umeyama(src.astype(np.float32), dst), expected, atol=1e-3)
    got32 = opticore.umeyama(src.astype(np.float32), dst.astype(np.float32))
    assert got32.dtype == np.float64
    # opticore accumulates float32 input in float64; scikit-image partly in float32.
    np.testing.assert_allclose(got32, skimage_params(src.astype(np.float32), dst.astype(np.float32)), atol=1e-5)


@pytest.mark.parametrize(
    "src, dst, error, words",
    [
        (np.zeros((5, 2)), np.zeros((4, 2)), ValueError, "dst: expected the shape of src (5, 2), got (4, 2)"),
        (np.zeros(5), np.zeros(5), ValueError, "src: expected shape (N, D) or (B, N, D)"),
        (np.zeros((3, 5, 2)), np.zeros((5, 2)), ValueError, "dst: expected the shape of src"),
        (np.zeros((5, 2), np.int64), np.zeros((5, 2)), TypeError, "src: expected float32 or float64"),
        (np.array([[0, 0], [1, np.nan]]), np.zeros((2, 2)), ValueError, "src: expected finite coordinates"),
        (np.zeros((0, 2)), np.zeros((0, 2)), ValueError, "src: expected at least one point"),
    ],
)
def test_bad_arguments(src, dst, error, words):
    with pytest.raises(error) as info:
        opticore.umeyama(src, dst)
    assert words in str(info.value)


def test_dimension_and_result_size_limits():
    # 30,000-dimensional points used to need ~14 GB for the SVD: refused up front.
    message = r"src: expected points of dimension D <= 64 \(opticore::kMaxPointDims\), got 30000"
    with pytest.raises(ValueError, match=message):
        opticore.umeyama(np.zeros((2, 30000)), np.zeros((2, 30000)))
    rng = np.random.default_rng(0)
    src = rng.normal(size=(70, 64))
    dst = 2 * src + 1
    np.testing.assert_allclose(opticore.umeyama(src, dst), skimage_params(src, dst), atol=1e-9)
    # A batch whose (B, D+1, D+1) result would exceed 4 GiB, from a small (stride-0) input.
    many = np.broadcast_to(src[:1], (200_000, 1, 64))
    with pytest.raises(ValueError, match=r"src: expected a result of at most 4 GiB .*200000 x 65 x 65"):
        opticore.umeyama(many, many)


def test_fewer_points_than_dimensions_are_degenerate_without_an_svd():
    # N points span at most N - 1 < D - 1 dimensions: degenerate by the documented rule.
    rng = np.random.default_rng(1)
    src = rng.normal(size=(3, 40, 60))
    out = opticore.umeyama(src, src * 2)
    assert out.shape == (3, 61, 61) and np.isnan(out).all()
    with pytest.raises(ValueError, match="degenerate"):
        opticore.umeyama(src[0], src[0] * 2)


def test_big_endian_points_are_read_correctly():
    rng = np.random.default_rng(2)
    src, dst = point_sets(rng, 9, 2, "noisy")
    np.testing.assert_array_equal(
        opticore.umeyama(src.astype(">f8"), dst.astype(">f4")), opticore.umeyama(src, dst.astype("f4"))
    )
