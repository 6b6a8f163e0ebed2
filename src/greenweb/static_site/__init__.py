"""The static-site export: the public pages as files (``export``), and an nginx.conf that
serves them and sends the rest to the app (``nginx``)."""
