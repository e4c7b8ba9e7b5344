"""Pieces of the learner's pages: the progress map, the hours chart, the shared plain-data helpers."""
