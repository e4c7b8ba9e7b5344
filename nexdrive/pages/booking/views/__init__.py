"""The booking widget's steps, split out of ``book.py`` (page beside its state in ``book_state.py``)."""
