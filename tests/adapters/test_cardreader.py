"""The kiosk's card-reader drivers against a simulated GA 467 reader on a pty, and a reader that
types its number (keyboard wedge) on another pty."""

from __future__ import annotations

import os
import time
import tty

import pytest

from kiosk.cardreader import FIND, READ, SELECT, GA467Reader, ReaderFault, WedgeReader, frame, masked, open_reader
from tests.cardsim import ADDRESS, NAME, SimulatedReader

NUMBER = "11010519491231002X"


@pytest.fixture
def sim():  # type: ignore[no-untyped-def]
    s = SimulatedReader()
    yield s
    s.close()


def test_a_frame_is_preamble_length_command_and_xor() -> None:
    assert frame(0x20, 0x01) == bytes.fromhex("aaaaaa9669 0003 2001 22")


def test_the_ga467_driver_reads_the_number_once_per_card_and_nothing_else(sim) -> None:  # type: ignore[no-untyped-def]
    reader = GA467Reader(sim.port, timeout=2)
    try:
        assert reader.read(0.5) is None  # no card
        sim.card = NUMBER
        assert reader.read(5) == NUMBER
        assert sim.frames[-3:] == [FIND, SELECT, READ]
        assert reader.read(0.6) is None  # still on the reader: not read again
        sim.card = None
        assert reader.read(0.5) is None
        sim.card = "110105196611260031"
        assert reader.read(5) == "110105196611260031"
    finally:
        reader.close()
    assert NAME not in repr(vars(reader)) and ADDRESS not in repr(vars(reader))


def test_a_garbled_answer_is_a_fault_not_a_number(sim) -> None:  # type: ignore[no-untyped-def]
    sim.bad_checksum = True
    sim.card = NUMBER
    reader = open_reader(f"serial:{sim.port}@115200")
    try:
        with pytest.raises(ReaderFault, match="check byte"):
            reader.read(2)
    finally:
        reader.close()


def test_a_wedge_reader_gives_numbers_typed_fast_and_ignores_the_rest() -> None:
    master, slave = os.openpty()
    tty.setraw(slave)
    reader = WedgeReader.open(os.ttyname(slave), max_gap_s=0.5)
    try:
        assert reader.read(0.2) is None
        os.write(master, b"12345\r")  # not a number's shape
        os.write(master, NUMBER.lower().encode() + b"\r")
        assert reader.read(5) == NUMBER
        os.write(master, b"1101051949")
        assert reader.read(0.1) is None  # half a number so far
        time.sleep(0.7)  # a pause longer than a reader's between two keys: a person typing
        os.write(master, b"1231002X\r")
        assert reader.read(0.5) is None
    finally:
        reader.close()
        os.close(master)
        os.close(slave)


def test_masked_shows_neither_birth_date_nor_number() -> None:
    assert masked(NUMBER) == "110*************2X" and "19491231" not in masked(NUMBER)


def test_a_reader_spec_names_its_kind() -> None:
    with pytest.raises(ValueError):
        open_reader("usb:1234")
