"""The figures of each circuit, one module per circuit, apart from its network code.

A circuit module's ``figures(result, twin_output, outdir)`` delegates here, so that the
module itself reads as the circuit (parameters, network, protocol) and the hand-placed
layout of its figures lives in ``spikingml.figures.<circuit>``. Generic drawing
functions (rasters, PSTHs, mosaics) stay in :mod:`spikingml.plotting`.
"""
