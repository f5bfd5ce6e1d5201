"""The donor identity vault (issue 19): personal data beside the log, never in it.

- ``identity``: pure normalisation, the network-wide pseudonym, blind indexes, commitments;
- ``envelope``: per-donor data keys (AES-GCM) wrapped by a master key behind ``KeyWrapper``;
- ``keys``: the master key and the pepper from the settings (generated for the demo);
- ``service``: registration, reads, search and shredding, over ``app.store.vault`` and the
  writer.
"""
