"""The witness's side effects: the log's HTTP API (``http_log``), its own key and state files
and the clock (``runner``). What it vouches for is ``app/log/witness.py``, pure."""
