#!/usr/bin/env python3
"""Writes the real-word lists the engine reads, from wordfreq's frequency lists.

`common.txt`: the 15,000 most frequent words of English, French, German, Italian,
Spanish, Portuguese and Dutch; `words.txt`: the rest of each language's 100,000 most
frequent (50,000 for Portuguese and Dutch). Letters only, accents removed, three letters or more, lower case, sorted.
`accented.txt`: the words of both lists that are written with accents, as written (lower
case, NFC), so that an accent a real word has is told from one strewn on a name.

    pip install wordfreq==3.1.1
    python3 generate.py
"""

import re
import unicodedata
from pathlib import Path

from wordfreq import top_n_list

HERE = Path(__file__).parent
LANGUAGES = {"en": 100_000, "fr": 100_000, "de": 100_000, "it": 100_000, "es": 100_000,
             "pt": 50_000, "nl": 50_000}


def folded(word):
    decomposed = unicodedata.normalize("NFKD", word.lower())
    return "".join(c for c in decomposed if not unicodedata.combining(c))


def main():
    common, rest, accented = set(), set(), set()
    for language, n in LANGUAGES.items():
        for rank, written in enumerate(top_n_list(language, n)):
            word = folded(written)
            if re.fullmatch("[a-z]{3,24}", word):
                (common if rank < 15_000 else rest).add(word)
                written = unicodedata.normalize("NFC", written.lower())
                if written != word:
                    accented.add(written)
    (HERE / "common.txt").write_text("\n".join(sorted(common)) + "\n")
    (HERE / "words.txt").write_text("\n".join(sorted(rest - common)) + "\n")
    (HERE / "accented.txt").write_text("\n".join(sorted(accented)) + "\n")
    print(f"{len(common)} common, {len(rest - common)} more, {len(accented)} with accents")


if __name__ == "__main__":
    main()
