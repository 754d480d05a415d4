from server.domain.announce import announcement, chinese_integer, read_digits, speak_integers
from tests.halls import small_catalog


def test_ticket_numbers_are_read_digit_by_digit():
    assert read_digits("A012") == "A零一二"
    # two-letter prefixes: each letter by its name (espeak-ng reads "MA" as the syllable ma)
    assert read_digits("MA100") == "M A一零零"
    assert read_digits("YA001") == "Y A零零一"
    assert read_digits("B1000") == "B一零零零"


def test_window_numbers_are_read_as_numbers():
    assert [chinese_integer(n) for n in (0, 5, 10, 12, 20, 21, 100, 105, 110, 1001)] == [
        "零", "五", "十", "十二", "二十", "二十一", "一百", "一百零五", "一百一十", "一千零一"
    ]
    assert speak_integers("12号窗口") == "十二号窗口"


def test_a_call_is_shown_and_spoken_from_the_hall_template():
    cat = small_catalog()
    call = announcement(cat, "A012", "w3")
    assert call == {"text": "请 A012 号 到 3号窗口 办理", "speech": "请 A零一二 号 到 三号窗口 办理"}
    custom = small_catalog(voice={"template": "{number}号请到{window}"})
    assert announcement(custom, "C007", "w1")["speech"] == "C零零七号请到一号窗口"


def test_a_two_letter_prefix_is_shown_joined_and_spoken_letter_by_letter():
    cat = small_catalog()
    call = announcement(cat, "EA012", "w3")
    assert call == {"text": "请 EA012 号 到 3号窗口 办理", "speech": "请 E A零一二 号 到 三号窗口 办理"}
