"""opticore.models.mtcnn: P-Net, R-Net, O-Net load facenet-pytorch's weights, compute what a plain
functional re-statement of the published architecture computes, and export with dynamic shapes."""

import importlib.util

import numpy as np
import pytest

torch = pytest.importorskip("torch")
F = torch.nn.functional

from opticore.models import mtcnn  # noqa: E402

needs_weights = pytest.mark.skipif(importlib.util.find_spec("facenet_pytorch") is None,
                                   reason="facenet-pytorch not installed (pip install --no-deps facenet-pytorch)")


def reference_forward(net, x):
    """The published networks with torch.nn.functional, straight from the state dict: ceil-mode
    pools, PReLU, dense layers on features flattened in (W, H, C) order."""
    p = net.state_dict()

    def conv(x, name):
        return F.prelu(F.conv2d(x, p[f"conv{name}.weight"], p[f"conv{name}.bias"]), p[f"prelu{name}.weight"])

    def pool(x, k, s):
        return F.max_pool2d(x, k, s, ceil_mode=True)

    def dense(x, name):
        return F.linear(x, p[f"dense{name}.weight"], p[f"dense{name}.bias"])

    if isinstance(net, mtcnn.PNet):
        x = conv(conv(pool(conv(x, 1), 2, 2), 2), 3)
        face = F.conv2d(x, p["conv4_1.weight"], p["conv4_1.bias"])
        return F.conv2d(x, p["conv4_2.weight"], p["conv4_2.bias"]), F.softmax(face, 1)[:, 1]
    if isinstance(net, mtcnn.RNet):
        x = conv(pool(conv(pool(conv(x, 1), 3, 2), 2), 3, 2), 3)
        x = F.prelu(dense(x.permute(0, 3, 2, 1).reshape(len(x), -1), 4), p["prelu4.weight"])
        return dense(x, "5_2"), F.softmax(dense(x, "5_1"), 1)[:, 1]
    x = pool(conv(pool(conv(pool(conv(x, 1), 3, 2), 2), 3, 2), 3), 2, 2)
    x = conv(x, 4)
    x = F.prelu(dense(x.permute(0, 3, 2, 1).reshape(len(x), -1), 5), p["prelu5.weight"])
    return dense(x, "6_2"), dense(x, "6_3"), F.softmax(dense(x, "6_1"), 1)[:, 1]


CASES = [(mtcnn.PNet, (2, 3, 37, 50)), (mtcnn.PNet, (1, 3, 12, 13)), (mtcnn.PNet, (1, 3, 25, 12)),
         (mtcnn.RNet, (5, 3, 24, 24)), (mtcnn.ONet, (4, 3, 48, 48))]


@pytest.mark.parametrize("cls,shape", CASES)
def test_random_init_matches_functional_reference(cls, shape):
    torch.manual_seed(0)
    net = cls().eval()
    x = torch.rand(shape) * 2 - 1
    with torch.no_grad():
        for ours, ref in zip(net(x), reference_forward(net, x)):
            assert ours.shape == ref.shape
            torch.testing.assert_close(ours, ref, rtol=0, atol=1e-6)


@needs_weights
@pytest.mark.parametrize("cls,shape", CASES)
def test_pretrained_matches_functional_reference_and_export(cls, shape):
    net = cls.pretrained()
    assert not net.training
    torch.manual_seed(1)
    x = torch.rand(shape) * 2 - 1
    program = mtcnn.export_stage(net).module()
    with torch.no_grad():
        eager = net(x)
        for ours, ref, exported in zip(eager, reference_forward(net, x), program(x)):
            torch.testing.assert_close(ours, ref, rtol=0, atol=1e-5)
            torch.testing.assert_close(exported, ours, rtol=0, atol=1e-5)


@needs_weights
def test_exported_pnet_takes_other_sizes_and_batches():
    net = mtcnn.PNet.pretrained()
    program = mtcnn.export_stage(net).module()
    for shape in [(1, 3, 12, 12), (3, 3, 13, 40), (1, 3, 100, 21)]:
        x = torch.rand(shape)
        with torch.no_grad():
            for a, b in zip(program(x), net(x)):
                torch.testing.assert_close(a, b, rtol=0, atol=1e-5)
    with pytest.raises(TypeError, match="module"):
        mtcnn.export_stage(torch.nn.Linear(2, 2))


@needs_weights
def test_weights_from_a_folder(tmp_path):
    for net in mtcnn.load_mtcnn():
        torch.save({k: v * 2 for k, v in net.state_dict().items()}, tmp_path / f"{net.name}.pt")
    pnet, _, onet = mtcnn.load_mtcnn(tmp_path)
    torch.testing.assert_close(onet.dense6_3.bias, mtcnn.ONet.pretrained().dense6_3.bias * 2)
    torch.testing.assert_close(pnet.prelu1.weight, mtcnn.PNet.pretrained().prelu1.weight * 2)
    with pytest.raises(FileNotFoundError, match="folder"):
        mtcnn.load_mtcnn(tmp_path / "missing")
    (tmp_path / "rnet.pt").unlink()
    with pytest.raises(FileNotFoundError, match="rnet.pt"):
        mtcnn.load_mtcnn(tmp_path)


def test_missing_package_names_it(monkeypatch):
    monkeypatch.setattr(importlib.util, "find_spec", lambda name, *a: None)
    with pytest.raises(FileNotFoundError, match=r"pip install --no-deps facenet-pytorch"):
        mtcnn.PNet.pretrained()
    with pytest.raises(ValueError, match="stage"):
        mtcnn.packaged_weights("qnet")


@needs_weights
def test_pnet_fires_on_a_real_face():
    """A 12 x 12 window over the astronaut's face (its box scaled to 12 pixels) is a face; a
    window of flat sky is not."""
    pytest.importorskip("skimage")
    import skimage.data

    from opticore import resize

    image = skimage.data.astronaut()
    face = resize(np.ascontiguousarray(image[60:160, 170:270]), (12, 12), interpolation="area")
    flat = np.full((12, 12, 3), 128, np.uint8)
    x = torch.from_numpy(((np.stack([face, flat]).astype(np.float32) - 127.5) / 128).transpose(0, 3, 1, 2).copy())
    with torch.no_grad():
        _, prob = mtcnn.PNet.pretrained()(x)
    assert prob[0, 0, 0] > 0.9 and prob[1, 0, 0] < 0.1
