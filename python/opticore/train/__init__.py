"""Training: the loop every opticore model trains with (:mod:`opticore.train.loop`) and one module
per task with a ``main(argv) -> int`` behind ``opticore train TASK``. torch is imported here, never
by ``import opticore``.
"""
