"""Reproducible benchmarks of the govkg SPARQL endpoint against peer triple stores.

``generate`` writes the open-government-shaped dataset, ``queries`` draws the query mix
from it, ``loadgen`` drives an endpoint over loopback HTTP, and ``run`` puts the
systems side by side. See ``benchmarks/README.md``.
"""
