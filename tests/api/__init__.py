"""Tests of the roster service (api/) against a real uvicorn server on a loopback port."""
