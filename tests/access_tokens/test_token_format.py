"""The token format: kspat_ + 43 random base62 characters + a 6-character CRC32 checksum."""

import hashlib
import re
import zlib

import pytest

from access_tokens import services
from access_tokens.token_format import (
    PREFIX,
    TOKEN_IN_TEXT_RE,
    checksum,
    generate_token,
    is_well_formed,
    token_digest,
)

ALPHABET = "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz"


def _decode_base62(text: str) -> int:
    number = 0
    for ch in text:
        number = number * 62 + ALPHABET.index(ch)
    return number


def test_it_starts_with_the_prefix_and_has_55_characters():
    raw = generate_token()
    assert PREFIX == "kspat_"
    assert raw.startswith("kspat_")
    assert len(raw) == 55
    assert re.fullmatch(r"kspat_[0-9A-Za-z]{49}", raw)


def test_it_uses_only_base62_characters_and_every_one_of_them():
    tokens = [generate_token() for _ in range(300)]
    seen = set("".join(raw[6:49] for raw in tokens))
    # 300 tokens draw 12 900 random characters: every letter of the alphabet shows up.
    assert seen == set(ALPHABET)


def test_it_never_repeats_a_token():
    tokens = {generate_token() for _ in range(1000)}
    assert len(tokens) == 1000


def test_it_carries_the_crc32_of_everything_before_the_checksum():
    raw = generate_token()
    body, check = raw[:49], raw[49:]
    assert checksum(body) == check
    assert _decode_base62(check) == zlib.crc32(body.encode())


@pytest.mark.parametrize(
    "crc", [0, 1, 61, 62, 3843, 3844, 62**3, 62**4 - 1, 62**4, 62**5 + 7, 2**31, 2**32 - 1]
)
def test_the_checksums_look_ups_write_what_base62_writes(crc):
    from access_tokens.token_format import _base62, _checksum_chars

    assert _checksum_chars(crc) == _base62(crc, 6)
    assert _decode_base62(_checksum_chars(crc)) == crc


def test_it_accepts_the_tokens_it_makes():
    for _ in range(100):
        assert is_well_formed(generate_token())


def test_it_detects_every_one_character_change():
    raw = generate_token()
    for i in range(len(raw)):
        for ch in ALPHABET + "_-":
            if ch == raw[i]:
                continue
            changed = raw[:i] + ch + raw[i + 1 :]
            assert not is_well_formed(changed), f"position {i}: {raw[i]!r} -> {ch!r}"


def test_it_detects_a_swap_of_two_neighbours():
    raw = generate_token()
    for i in range(6, 54):
        if raw[i] == raw[i + 1]:
            continue
        swapped = raw[:i] + raw[i + 1] + raw[i] + raw[i + 2 :]
        assert not is_well_formed(swapped)


@pytest.mark.parametrize(
    "junk",
    [
        None,
        "",
        "kspat_",
        "kspat_" + "0" * 48,
        "kspat_" + "0" * 50,
        "ghp_" + "a" * 36,
        "KSPAT_" + "0" * 49,
        " kspat_" + "0" * 49,
        42,
        ["kspat_"],
    ],
)
def test_it_refuses_junk(junk):
    assert not is_well_formed(junk)


def test_it_refuses_surrounding_space_and_bytes():
    raw = generate_token()
    assert not is_well_formed(raw + "\n")
    assert not is_well_formed(" " + raw)
    assert not is_well_formed(raw.encode())


def test_it_refuses_a_non_ascii_digit_in_the_body():
    raw = generate_token()
    # "٣" (Arabic-Indic three) is a digit to Python's str.isdigit, not to the format.
    assert not is_well_formed(raw[:10] + "٣" + raw[11:])


def test_it_stores_the_sha256_hex_digest():
    raw = generate_token()
    assert token_digest(raw) == hashlib.sha256(raw.encode()).hexdigest()
    assert re.fullmatch(r"[0-9a-f]{64}", token_digest(raw))


def test_it_finds_a_token_in_free_text_but_not_a_longer_run():
    raw = generate_token()
    assert TOKEN_IN_TEXT_RE.search(f"GET /?token={raw}&x=1").group() == raw
    assert TOKEN_IN_TEXT_RE.search(raw + "A") is None


def test_services_re_exports_the_helpers():
    raw = services.generate_token()
    assert services.is_well_formed(raw)
    assert services.token_digest(raw) == token_digest(raw)
