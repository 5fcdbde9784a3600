"""The weekly digest: choose an issue's articles, render them, freeze the issue, archive it.

``periods`` counts ISO weeks in the site's zone, ``select`` chooses articles, ``render``
turns them into the subject, CSS-inlined HTML and plain text, ``archive`` writes the web
copies, and ``build`` ties them to the store (``ensure_issue``, ``preview_issue``).
"""
