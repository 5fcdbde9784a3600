"""The subscriber side of `swfeed serve`: sign-up with double opt-in, the welcome, the
preference centre, and the worker that sends confirmation and welcome mails.

``settings`` reads the config; ``clients`` tells who is asking (and how often);
``forms`` reads posted forms; ``service`` decides and records; ``mails`` renders the two
emails; ``worker`` sends them from the queue; ``routes`` are the Starlette handlers.
"""
