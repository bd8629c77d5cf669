"""The models opticore trains, exports and runs, as ``torch.export``-able ``nn.Module`` s (no
data-dependent Python control flow in ``forward``). torch is imported here, never by
``import opticore``.

* :mod:`opticore.models.minifasnet`: MiniFASNet anti-spoofing (V1 / V2 / V1SE / V2SE, Fourier head).
* :mod:`opticore.models.mtcnn`: MTCNN's P-Net, R-Net and O-Net (facenet-pytorch's trained weights).
* :mod:`opticore.models.pfld`: PFLD facial landmarks and its auxiliary pose network.
"""
