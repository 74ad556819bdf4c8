"""What operators watch: the health endpoint (``health.py``) and the Prometheus metrics (``metrics.py``)."""
