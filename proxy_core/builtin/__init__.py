"""The core's own default plugins, registered exactly like external ones."""
