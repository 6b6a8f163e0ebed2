"""The footprint: what each page of the site costs in bytes, requests and grams CO2e.

``carbon`` is the carbon model (Sustainable Web Design v4, as CO2.js computes it, on the
configured grid and hosting), ``wire`` the size of a response on the wire, ``page`` the
reading of HTML and CSS for what a browser fetches, ``measure`` the measurement of
targets over ASGI in-process, ``budget`` the budget file and its check, ``report`` the
text, Markdown and JSON reports, ``carbon_txt`` the ``/carbon.txt`` file, ``chart`` the
bars of the chart on ``/impronta``. The footer stamp, ``/impronta`` and ``greenweb
footprint`` all use this one model.
"""
