"""viz: computation graphs of autograd_lite Values, drawn with Graphviz (in progress)."""
