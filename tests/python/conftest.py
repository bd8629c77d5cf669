import os
import sys

# The tests import the independent references next to them as `reference`.
sys.path.insert(0, os.path.dirname(__file__))
