"""The Gradio UI: a thin layer over the `rag` library."""
