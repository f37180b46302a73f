"""velox's reference models: plain Python, the specification of the native code.

Installed as ``velox.models`` (this folder is mapped there by setup.py) so it
cannot clash with any other distribution's top-level ``models`` package.
"""
