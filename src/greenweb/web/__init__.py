"""The thin Starlette layer: parse the request, call the domain, render a template."""
