"""Abstract twins of the circuits and the metrics that compare a Result with its twin.

Nothing here builds a Brian2 network: analysis works on :class:`spikingml.Result`
objects and NumPy arrays.
"""
