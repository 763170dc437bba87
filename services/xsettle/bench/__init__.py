"""``xsettle bench``: the engine, the raw broker round trip and the pipeline, side by side."""
