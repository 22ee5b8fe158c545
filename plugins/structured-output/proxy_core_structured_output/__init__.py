"""proxy-core feature plugin: response_format natively or through a forced tool."""
