"""nn: neural networks built from scalar autograd_lite Values (in progress)."""
