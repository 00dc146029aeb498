"""``cameras import|pending|positions|list`` on a real SQLite store, with real public registers."""

from __future__ import annotations

import csv
import io
import json
from pathlib import Path

import pytest

from app.cli import main
from app.domain.camera_import import parse_cameras

REGISTERS = Path(__file__).resolve().parent.parent / "data" / "registers"
MAPO = REGISTERS / "mapo_2017_placeholders_cp949.csv"
MAPO_COLUMNS = "man=관리기관명,add=소재지도로명주소,rd=소재지지번주소,object=설치목적구분,num=카메라대수,lat=위도,lng=경도"


def run(capsys: pytest.CaptureFixture[str], *argv: str) -> tuple[int, str, str]:
    code = main(list(argv))
    out, err = capsys.readouterr()
    return code, out, err


def test_import_summary_report_and_dry_run(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    data = ("--data-dir", str(tmp_path / "data"))
    busan = REGISTERS / "busan_2024_utf8.csv"
    expected = parse_cameras(busan.read_bytes(), busan.name)
    code, out, err = run(capsys, "cameras", "import", str(busan), "--dry-run", *data)
    assert code == 0
    summary = json.loads(out)
    assert summary["dry_run"] is True and summary["added"] == len(expected.cameras)
    assert summary["rows_read"] == len(busan.read_text(encoding="utf-8").splitlines()) - 1
    code, out, _ = run(capsys, "cameras", "list", *data)
    assert out == ""  # the dry run wrote nothing
    report = tmp_path / "report.csv"
    code, out, err = run(capsys, "cameras", "import", str(busan), "--report", str(report), *data)
    summary = json.loads(out)
    assert summary["cameras_imported"] == summary["added"] == len(expected.cameras)
    assert summary["rows_held"] == 2 and summary["rows_refused"] == 0 and summary["rows_repeated"] == 0
    # The two held rows are named on stderr with their lines, and in the report with their addresses.
    assert "busan_2024_utf8.csv:989: held: the position is 0, 0" in err
    assert "busan_2024_utf8.csv:2427: held: the position 30.072746, 129.07068 is outside South Korea" in err
    rows = list(csv.DictReader(io.StringIO(report.read_text(encoding="utf-8-sig"))))
    assert [(r["line"], r["kind"], r["code"]) for r in rows] == [
        ("989", "held", "position-zero"),
        ("2427", "held", "position-outside-korea"),
    ]
    assert rows[1]["road_address"] == "부산광역시 영도구 절영로513-35" and rows[1]["lat"] == "30.072746"
    code, out, _ = run(
        capsys, "cameras", "list", "--format", "csv", "--provider", "부산광역시 영도구청", *data
    )
    listed = list(csv.DictReader(io.StringIO(out)))
    yeongdo = [c for c in expected.cameras if c.register and c.register.provider == "부산광역시 영도구청"]
    assert sorted(r["id"] for r in listed) == sorted(c.id for c in yeongdo)
    code, out, _ = run(capsys, "cameras", "list", "--format", "json", *data)
    assert len(out.splitlines()) == len(expected.cameras)


def test_placeholders_are_held_then_placed_from_a_corrected_csv(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    data = ("--data-dir", str(tmp_path / "data"))
    report = tmp_path / "mapo-report.csv"
    code, out, err = run(
        capsys, "cameras", "import", str(MAPO), "--columns", MAPO_COLUMNS, "--report", str(report), *data
    )
    summary = json.loads(out)
    records = MAPO.read_bytes().decode("cp949").splitlines()[1:]
    repeats = len(records) - len(set(records))
    assert summary["rows_read"] == len(records)
    assert summary["rows_repeated"] == repeats and summary["rows_held"] == len(records) - repeats
    assert summary["cameras_imported"] == 0
    # A few lines per kind on the terminal, every one in the report.
    held_lines = [line for line in err.splitlines() if ": held: " in line]
    assert len(held_lines) == 3 and f"and {summary['rows_held'] - 3} more rows held" in err
    kinds = [r["kind"] for r in csv.DictReader(io.StringIO(report.read_text(encoding="utf-8-sig")))]
    assert kinds.count("held") == summary["rows_held"] and kinds.count("repeat") == repeats

    code, out, _ = run(capsys, "cameras", "pending", *data)
    pending = list(csv.DictReader(io.StringIO(out)))
    assert len(pending) == summary["rows_held"]
    assert {p["lat"] for p in pending} == {"99.999999"} and all(
        p["road_address"] or p["lot_address"] for p in pending
    )
    # The city corrects two rows and imports them back; a wrong one is refused with its line.
    corrected = tmp_path / "corrected.csv"
    fixed = [dict(pending[0], lat="37.5446", lon="126.9515"), dict(pending[1], lat="37.55", lon="126.95")]
    bad = dict(pending[2], lat="99.999999", lon="999.999999")
    with corrected.open("w", encoding="utf-8", newline="") as f:
        w = csv.DictWriter(f, fieldnames=list(pending[0]))
        w.writeheader()
        w.writerows([*fixed, bad])
    code, out, err = run(capsys, "cameras", "positions", str(corrected), *data)
    assert code == 1 and json.loads(out) == {"rows_read": 3, "placed": 2, "corrected": 0, "refused": 1}
    assert "corrected.csv:4: refused:" in err and "placeholder" in err
    code, out, _ = run(capsys, "cameras", "list", *data)
    cams = [json.loads(line) for line in out.splitlines()]
    assert len(cams) == int(fixed[0]["count"]) + int(fixed[1]["count"])
    assert {(c["lat"], c["lon"]) for c in cams} == {(37.5446, 126.9515), (37.55, 126.95)}
    assert all(c["provider"] == "서울특별시 마포구청" for c in cams)
    code, out, _ = run(capsys, "cameras", "pending", "--format", "json", *data)
    assert len(out.splitlines()) == summary["rows_held"] - 2


def test_column_mapping_from_the_settings_and_unknown_layouts(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    data = ("--data-dir", str(tmp_path / "data"))
    code, out, err = run(capsys, "cameras", "import", str(MAPO), *data)
    assert code == 2 and "Columns found: man, add, rd" in err and "Layouts known:" in err
    config = tmp_path / "settings.toml"
    pairs = dict(p.split("=") for p in MAPO_COLUMNS.split(","))
    config.write_text(
        "[cameras.columns]\n" + "".join(f'{k} = "{v}"\n' for k, v in pairs.items()), encoding="utf-8"
    )
    code, out, err = run(capsys, "cameras", "import", str(MAPO), "--config", str(config), *data)
    assert code == 0 and json.loads(out)["rows_held"] > 0


def test_approximate_cameras_are_corrected_by_position(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    data = ("--data-dir", str(tmp_path / "data"))
    gyeongsan = REGISTERS / "gyeongsan_2024_cp949.csv"
    expected = parse_cameras(gyeongsan.read_bytes(), gyeongsan.name)
    code, out, _ = run(capsys, "cameras", "import", str(gyeongsan), *data)
    assert json.loads(out)["cameras_approximate"] == sum(c.approximate for c in expected.cameras) > 0
    approx = next(c for c in expected.cameras if c.approximate)
    corrected = tmp_path / "fix.csv"
    corrected.write_text(f"id,lat,lon\n{approx.id},35.83,128.74\n", encoding="utf-8")
    code, out, _ = run(capsys, "cameras", "positions", str(corrected), *data)
    assert code == 0 and json.loads(out)["corrected"] == 1
    _, out, _ = run(capsys, "cameras", "list", *data)
    row = next(json.loads(line) for line in out.splitlines() if approx.id in line)
    assert (row["lat"], row["lon"], row["approximate"]) == (35.83, 128.74, False)


def test_sync_refuses_a_file_without_providers(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    plain = Path(__file__).resolve().parent.parent / "data" / "cameras_goldentime.csv"
    code, _, err = run(capsys, "cameras", "import", str(plain), "--sync", "--data-dir", str(tmp_path))
    assert code == 2 and "--sync needs a camera register" in err


def test_sync_of_an_edition_without_register_numbers(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """강남구 2019 (no 관리번호): a site's count lowered keeps its first ids, a moved site keeps its ids, a
    renamed site is removed and added, a deleted one removed; the store ends with exactly the new edition."""
    data = ("--data-dir", str(tmp_path / "data"))
    old_file = REGISTERS / "gangnam_2019_cp949.csv"
    text = old_file.read_bytes().decode("cp949")
    header, *rows = list(csv.reader(io.StringIO(text, newline="")))
    col = {h.strip('"'): i for i, h in enumerate(header)}
    count, lat, road = col["카메라대수"], col["위도"], col["소재지도로명주소"]
    lowered = next(i for i, r in enumerate(rows) if r[count] == "5")
    moved = next(i for i, r in enumerate(rows) if r[count] == "4")
    renamed = next(i for i, r in enumerate(rows) if r[count] == "3")
    deleted = next(i for i, r in enumerate(rows) if r[count] == "1")
    new_rows = [list(r) for r in rows]
    new_rows[lowered][count] = "2"
    new_rows[moved][lat] = f"{float(rows[moved][lat]) + 0.001:.6f}"
    new_rows[renamed][road] = rows[renamed][road] + " (새 주소)"
    del new_rows[deleted]
    out = io.StringIO()
    csv.writer(out, lineterminator="\r\n").writerows([header, *new_rows])
    new_file = tmp_path / "gangnam_2020.csv"
    new_file.write_bytes(out.getvalue().encode("cp949"))
    old, new = parse_cameras(text.encode("cp949"), "old"), parse_cameras(new_file.read_bytes(), "new")

    code, _, _ = run(capsys, "cameras", "import", str(old_file), *data)
    assert code == 0
    code, out_text, _ = run(capsys, "cameras", "import", str(new_file), "--sync", *data)
    summary = json.loads(out_text)
    old_ids, new_ids = {c.id for c in old.cameras}, {c.id for c in new.cameras}
    assert summary["removed"] == len(old_ids - new_ids) == 3 + 1 + 3  # count 5→2, deleted 1, renamed 3
    assert summary["added"] == len(new_ids - old_ids) == 3  # the renamed site's cameras
    assert summary["moved"] == 4 and summary["changed"] == 0
    assert summary["unchanged"] == len(new_ids & old_ids) - 4
    _, listed, _ = run(capsys, "cameras", "list", *data)
    assert {json.loads(line)["id"] for line in listed.splitlines()} == new_ids
    _, listed, _ = run(capsys, "cameras", "list", "--retired", "--format", "csv", *data)
    retired = {r["id"] for r in csv.DictReader(io.StringIO(listed)) if r["retired"] == "True"}
    assert retired == old_ids - new_ids


def test_report_cells_a_spreadsheet_would_run_are_quoted(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    header = "관리기관명,소재지도로명주소,소재지지번주소,설치목적구분,카메라대수,위도,경도\n"
    rows = '악성구청,"=HYPERLINK(""http://x.example"")",@SUM(A1),생활방범,1,0,0\n'
    hostile = tmp_path / "hostile.csv"
    hostile.write_text(header + rows, encoding="utf-8")
    report = tmp_path / "r.csv"
    code, out, _ = run(
        capsys, "cameras", "import", str(hostile), "--report", str(report), "--data-dir", str(tmp_path)
    )
    assert code == 0 and json.loads(out)["rows_held"] == 1
    row = next(csv.DictReader(io.StringIO(report.read_text(encoding="utf-8-sig"))))
    assert row["road_address"] == '\'=HYPERLINK("http://x.example")' and row["lot_address"] == "'@SUM(A1)"
    assert row["lat"] == "0" and row["code"] == "position-zero"
