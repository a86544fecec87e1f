"""Errors from reading a road network name the network and never quote the file's text."""

from __future__ import annotations

from pathlib import Path

import pytest

from scheduler.errors import NetworkError
from solver.network import load_network

SECRET = "hunter2-secret"

FILES = {
    "settings.xml": f'<?xml version="1.0"?><settings><password>{SECRET}</password></settings>',
    "bad_number.osm": f'<osm><node id="1" lat="{SECRET}" lon="0"/><node id="2" lat="51.5" lon="-0.1"/>'
                      '<way id="3"><nd ref="1"/><nd ref="2"/><tag k="highway" v="primary"/></way></osm>',
    "not_xml.osm": f"{SECRET} <<< this is not XML",
    "bad.graphml": f'<graphml><graph><node id="{SECRET}"><data key="y">{SECRET}</data></node></graph></graphml>',
}


@pytest.mark.parametrize("name", sorted(FILES))
def test_network_read_error_names_the_file_without_quoting_it(tmp_path: Path, name: str) -> None:
    """Parser messages that echo the file (``could not convert string to float: '...'``) are not passed on."""
    path = tmp_path / name
    path.write_text(FILES[name])
    with pytest.raises(NetworkError) as info:
        load_network(path)
    message = str(info.value)
    assert name in message
    assert SECRET not in message and "<" not in message
