"""The mailing list: validation, all-or-nothing CSV import, tokens, and the CLI commands."""

from __future__ import annotations

from pathlib import Path

import pytest

from swfeed.cli import main
from swfeed.mailinglist.addresses import SubscriberError, clean_name, normalize_address
from swfeed.mailinglist.csvfile import CsvImportError, read_csv
from swfeed.mailinglist.tokens import make_token, verify_legacy_token
from swfeed.store import Database
from swfeed.store.subscribers import NewEntry, Status, SubscriberStore
from tests.smtpfixture import NOW, write_config

SECRET = b"k" * 32


def verify_token(secret: bytes, token: str) -> str | None:
    return verify_legacy_token([secret], token)


def no_hashes(_address: str) -> list[str]:
    return []


@pytest.fixture
def store(tmp_path: Path) -> SubscriberStore:
    """A subscriber store on a real SQLite file."""
    return SubscriberStore(Database(tmp_path / "store.sqlite3"))


def write_csv(tmp_path: Path, text: str) -> Path:
    path = tmp_path / "list.csv"
    path.write_text(text, encoding="utf-8")
    return path


def test_address_is_normalised() -> None:
    """Surrounding spaces go and the domain is lower-cased; the local part is kept."""
    assert normalize_address("  Ann.Smith@Example.ORG ") == "Ann.Smith@example.org"


def test_international_domain_is_stored_as_punycode() -> None:
    """An internationalised domain is stored in its ASCII form."""
    assert normalize_address("ann@bücher.example") == "ann@xn--bcher-kva.example"


@pytest.mark.parametrize(
    "address",
    [
        "",
        "ann",
        "ann@",
        "@example.org",
        "ann@@example.org",
        "ann smith@example.org",
        "ann@example.org\r\nBcc: x@example.net",
        "ännä@example.org",
        "ann@localhost",
    ],
)
def test_invalid_addresses_are_refused(address: str) -> None:
    """Malformed addresses (and non-ASCII local parts, which need SMTPUTF8) are refused."""
    with pytest.raises(SubscriberError):
        normalize_address(address)


def test_name_is_made_one_line() -> None:
    """Control characters and line separators in a name become single spaces."""
    assert clean_name(" Ann\r\nBcc:\u2028x\t ") == "Ann Bcc: x"


def test_overlong_name_is_refused() -> None:
    """A name over 200 characters is an error."""
    with pytest.raises(SubscriberError, match="at most 200"):
        clean_name("n" * 201)


def test_csv_with_header_finds_columns_by_name(tmp_path: Path) -> None:
    """A header row names the columns, in any order; a BOM is ignored."""
    path = write_csv(tmp_path, "\ufeffname,email\nAnn Smith,ann@example.org\n,bob@example.org\n")
    entries = read_csv(path)
    assert [(e.address, e.name, e.line) for e in entries] == [
        ("ann@example.org", "Ann Smith", 2),
        ("bob@example.org", "", 3),
    ]


def test_csv_without_header_is_address_then_name(tmp_path: Path) -> None:
    """Without a header the first column is the address and the second the name."""
    path = write_csv(tmp_path, 'ann@example.org,"Smith, Ann"\n\n# comment\nbob@example.org\n')
    assert [(e.address, e.name) for e in read_csv(path)] == [
        ("ann@example.org", "Smith, Ann"),
        ("bob@example.org", ""),
    ]


def test_csv_errors_name_every_bad_line(tmp_path: Path) -> None:
    """Each bad line is reported with its number, all at once."""
    path = write_csv(
        tmp_path, "email,name\nann@example.org,Ann\nnot-an-address,X\nann@EXAMPLE.org,Dup\n@x,Y\n"
    )
    with pytest.raises(CsvImportError) as caught:
        read_csv(path)
    problems = caught.value.problems
    assert [p.split(":")[0] for p in problems] == ["line 3", "line 4", "line 5"]
    assert "already on line 2" in problems[1]
    assert str(path) in str(caught.value)


def csv_problems(tmp_path: Path, text: str) -> list[str]:
    """The problems ``read_csv`` reports for a file with ``text``."""
    with pytest.raises(CsvImportError) as caught:
        read_csv(write_csv(tmp_path, text))
    return caught.value.problems


def test_csv_first_row_without_column_names_is_data(tmp_path: Path) -> None:
    """A first row naming no known column is data: its bad address is an error on line 1."""
    problems = csv_problems(tmp_path, "alice.example.org,Alice\nbob@example.org,Bob\n")
    assert len(problems) == 1
    assert problems[0].startswith("line 1: 'alice.example.org' is not a valid address")


def test_csv_header_is_recognised_by_its_column_names(tmp_path: Path) -> None:
    """``E-Mail``/``Address`` and ``Name`` headers are found in any case, other columns ignored."""
    path = write_csv(tmp_path, "Org,Name,E-Mail\nUN,Ann,ann@example.org\n")
    assert [(e.address, e.name, e.line) for e in read_csv(path)] == [("ann@example.org", "Ann", 2)]


def test_csv_header_without_an_address_column_is_an_error(tmp_path: Path) -> None:
    """A header that names ``name`` but no address column is reported, not guessed at."""
    problems = csv_problems(tmp_path, "name,contact\nAnn,ann@example.org\n")
    assert problems == [
        "line 1: the header names no address column (one of: email, address, e-mail, mail)"
    ]


def test_csv_unterminated_quote_is_an_error_naming_its_line(tmp_path: Path) -> None:
    """A quoted field that is never closed is an error on the line where it opens."""
    text = 'ann@example.org,Ann\nbob@example.org,"Bob\ncarl@example.org,Carl\n'
    problems = csv_problems(tmp_path, text)
    assert len(problems) == 1
    assert problems[0].startswith("line 2: malformed CSV")
    assert "never closed" in problems[0]


def test_csv_stray_quote_after_a_quoted_field_is_an_error(tmp_path: Path) -> None:
    """Text after a closing quote (``"Bob"x``) is malformed CSV, named by line."""
    problems = csv_problems(tmp_path, 'ann@example.org,Ann\nbob@example.org,"Bob"x\n')
    assert len(problems) == 1
    assert problems[0].startswith("line 2: malformed CSV")


def test_import_is_all_or_nothing(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    """One bad line means nothing at all is imported."""
    config = write_config(tmp_path)
    path = write_csv(tmp_path, "ann@example.org\nbroken\n")
    code = main(["--config", str(config), "subscribers", "import", str(path)])
    assert code != 0
    assert "line 2" in capsys.readouterr().err
    db = Database(tmp_path / "store.sqlite3")
    assert SubscriberStore(db).all() == []


def test_import_keeps_unsubscribed_addresses_out(store: SubscriberStore) -> None:
    """An import never re-subscribes someone who unsubscribed or bounced."""
    store.set_status("gone@example.org", Status.UNSUBSCRIBED, NOW)
    store.set_status("bounced@example.org", Status.BOUNCED, NOW)
    entries = [NewEntry(a) for a in ("gone@example.org", "bounced@example.org", "new@example.org")]
    counts = store.import_all(entries, NOW, no_hashes)
    assert counts.added == 1
    assert sorted(address for address, _why in counts.kept_out) == [
        "bounced@example.org",
        "gone@example.org",
    ]
    assert store.count(Status.ACTIVE) == 1


def test_import_updates_names_of_active_subscribers(store: SubscriberStore) -> None:
    """Importing an active address with a new name renames it; the same name changes nothing."""
    store.add(NewEntry("ann@example.org", "Ann"), NOW, [])
    entries = [NewEntry("ann@example.org", "Ann Smith"), NewEntry("ANN@example.org", "")]
    counts = store.import_all(entries, NOW, no_hashes)
    assert (counts.updated, counts.unchanged) == (1, 1)
    found = store.get("ann@example.org")
    assert found is not None
    assert found.name == "Ann Smith"


@pytest.mark.parametrize("status", [Status.UNSUBSCRIBED, Status.BOUNCED, Status.COMPLAINED])
def test_add_never_re_activates(store: SubscriberStore, status: Status) -> None:
    """``add`` keeps out an address that left, and says why: only a new opt-in brings it back."""
    store.set_status("ann@example.org", status, NOW)
    assert store.add(NewEntry("ann@example.org"), NOW, []) == f"{status} on {NOW:%Y-%m-%d}"
    found = store.get("ann@example.org")
    assert found is not None
    assert found.status is status


def test_addresses_match_case_insensitively(store: SubscriberStore) -> None:
    """ANN@example.org and ann@example.org are one subscriber."""
    store.add(NewEntry("ann@example.org"), NOW, [])
    assert store.add(NewEntry("ANN@example.org"), NOW, []) == "unchanged"
    assert len(store.all()) == 1


def test_token_round_trips() -> None:
    """A token names the address it was made for."""
    assert verify_token(SECRET, make_token(SECRET, "ann@example.org")) == "ann@example.org"


def test_token_is_url_safe() -> None:
    """Tokens use only URL-safe characters and no padding."""
    token = make_token(SECRET, "o'hara+tag@example.org")
    assert set(token) <= set("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_.")


def test_forged_token_is_refused() -> None:
    """A token for another address with a copied signature fails."""
    good = make_token(SECRET, "ann@example.org")
    forged = make_token(b"x" * 32, "bob@example.org").split(".")[0] + "." + good.split(".")[1]
    assert verify_token(SECRET, forged) is None
    assert verify_token(SECRET, make_token(b"other-secret-1234", "ann@example.org")) is None


@pytest.mark.parametrize("cut", [1, 2, 5, 20, 43])
def test_truncated_token_is_refused(cut: int) -> None:
    """A token cut short (a wrapped link) fails."""
    token = make_token(SECRET, "ann@example.org")
    assert verify_token(SECRET, token[:-cut]) is None


@pytest.mark.parametrize("token", ["", ".", "abc", "!!!.???", "YW5u.", ".YW5u", "YW5u=.abc"])
def test_malformed_token_is_refused(token: str) -> None:
    """Garbage is refused without an exception."""
    assert verify_token(SECRET, token) is None


def test_cli_add_list_remove(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    """add, list and remove through the CLI, with statuses shown."""
    config = str(write_config(tmp_path))
    assert main(["--config", config, "subscribers", "add", "Ann@Example.org", "--name", "Ann"]) == 0
    assert main(["--config", config, "subscribers", "add", "bob@example.org"]) == 0
    assert main(["--config", config, "subscribers", "remove", "bob@example.org"]) == 0
    capsys.readouterr()
    assert main(["--config", config, "subscribers", "list"]) == 0
    lines = capsys.readouterr().out.splitlines()
    assert lines == ["active       Ann@example.org  Ann", "unsubscribed bob@example.org"]


def test_cli_add_refuses_a_bad_address(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    """A bad address is refused with a hint and a non-zero exit."""
    config = str(write_config(tmp_path))
    assert main(["--config", config, "subscribers", "add", "nobody"]) != 0
    assert "not a valid address" in capsys.readouterr().err


def test_cli_import_reports_counts(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    """A good import says how many were added."""
    config = str(write_config(tmp_path))
    path = write_csv(tmp_path, "email,name\nann@example.org,Ann\nbob@example.org,Bob\n")
    assert main(["--config", config, "subscribers", "import", str(path)]) == 0
    assert "2 added" in capsys.readouterr().out


def test_sample_subscribers_csv_imports() -> None:
    """The bundled config/subscribers.csv is valid."""
    sample = Path(__file__).resolve().parent.parent / "config" / "subscribers.csv"
    assert len(read_csv(sample)) >= 2
