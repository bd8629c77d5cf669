"""Data for opticore's models: dataset readers, generators of labelled data, augmentation.

* :mod:`opticore.data.liveness`: image folders / CSVs of live and spoof faces, and a generator of
  recaptured (print, replay) spoofs from real photographs.
* :mod:`opticore.data.landmarks`: WFLW, 300-W ``.pts`` and CSV readers, 112x112 crops, augmentation
  with exact landmarks, mirroring tables, Euler angles, and a generator of labelled faces.
"""
