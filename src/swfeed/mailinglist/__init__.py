"""The mailing list: who is on it, how addresses are checked and imported, and the signed
tokens in every message's links. The ``subscribers`` table itself is ``store.subscribers``.
"""
