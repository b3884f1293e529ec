"""The Streamlit side of the app: session state and caching (state), shared widgets (widgets)."""
