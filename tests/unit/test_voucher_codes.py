import re

from herald_inserter.domain.codes import CODE_ALPHABET, generate_codes

CODE = re.compile(rf"^WIN-[{CODE_ALPHABET}]{{4}}-[{CODE_ALPHABET}]{{4}}-[{CODE_ALPHABET}]{{4}}$")


def test_codes_have_the_prefix_and_the_alphabet():
    codes = generate_codes("WIN", 1001)
    assert len(codes) == 1001
    assert all(CODE.match(c) for c in codes), [c for c in codes if not CODE.match(c)][:3]


def test_codes_avoid_look_alike_symbols():
    symbols = set(
        "".join(c.replace("WIN-", "").replace("-", "") for c in generate_codes("WIN", 5000))
    )
    assert not symbols & set("01IO")


def test_codes_are_unique_in_a_large_batch():
    codes = generate_codes("X1", 100_000)
    assert len(set(codes)) == 100_000


def test_two_batches_differ():
    assert set(generate_codes("X1", 100)).isdisjoint(generate_codes("X1", 100))


def test_zero_codes():
    assert generate_codes("X1", 0) == []


def test_symbols_are_spread_evenly():
    text = "".join(c[3:].replace("-", "") for c in generate_codes("X1", 20_000))
    counts = [text.count(s) for s in CODE_ALPHABET]
    expected = len(text) / len(CODE_ALPHABET)
    # 240,000 symbols: every symbol within 5% of its share if the source is uniform.
    assert all(abs(c - expected) < 0.05 * expected for c in counts)
