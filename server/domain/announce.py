"""What the lobby shows and says for a call (叫号): display text and Chinese speech text."""

from __future__ import annotations

import re

from .catalog import Catalog

DIGITS = "零一二三四五六七八九"


def read_digits(number: str) -> str:
    """A ticket number read as halls call it: digit by digit, and each letter by its name:
    A012 -> A零一二, MA100 -> M A一零零. Letters written together are read as a syllable by
    speech engines (espeak-ng reads "YA" as ya, "EA" as e): a space keeps them letters."""
    out = []
    for n, ch in enumerate(number):
        if ch.isdigit():
            out.append(DIGITS[int(ch)])
        else:
            out.append(ch + (" " if n + 1 < len(number) and number[n + 1].isalpha() else ""))
    return "".join(out)


def chinese_integer(n: int) -> str:
    """A whole number in Chinese words, for window numbers: 5 -> 五, 10 -> 十, 12 -> 十二, 105 -> 一百零五."""
    if n < 0:
        return "负" + chinese_integer(-n)
    if n < 10:
        return DIGITS[n]
    if n < 20:
        return "十" + (DIGITS[n % 10] if n % 10 else "")
    units = [(1000, "千"), (100, "百"), (10, "十")]
    out, zero = "", False
    for value, word in units:
        d, n = divmod(n, value)
        if d:
            if zero:
                out += "零"
            out += DIGITS[d] + word
            zero = False
        elif out:
            zero = True
    if n:
        out += ("零" if zero else "") + DIGITS[n]
    return out


def speak_integers(text: str) -> str:
    """Numbers inside words read as numbers: 12号窗口 -> 十二号窗口."""
    return re.sub(r"\d+", lambda m: chinese_integer(int(m.group())) if len(m.group()) <= 4 else read_digits(m.group()), text)


def announcement(catalog: Catalog, number: str, window_id: str) -> dict[str, str]:
    """The call as shown ("请 A012 号 到 5号窗口 办理") and as spoken ("请 A零一二 号 到 五号窗口 办理")."""
    template = catalog.hall.voice.template
    window = catalog.windows[window_id].called_as
    return {
        "text": template.format(number=number, window=window),
        "speech": template.format(number=read_digits(number), window=speak_integers(window)),
    }
