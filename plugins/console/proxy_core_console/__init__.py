"""proxy-core web console: the app at /ui and the read-only account view it uses."""
