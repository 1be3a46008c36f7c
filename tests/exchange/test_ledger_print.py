"""The ledger XLSX opens ready to print: title, frozen header, fitted and wrapped columns,
A4 landscape one page wide."""

from openpyxl import load_workbook

from tests.helpers import bring_to
from zhenggai.exchange import exporter


def test_the_ledger_sheet_is_ready_to_print(story, tmp_path):
    for state in ("open", "assigned", "claimed", "verified"):
        bring_to(story, state)
    path = tmp_path / "l.xlsx"
    assert exporter.export_ledger(story.org, path) == 4
    wb = load_workbook(path)
    ws = wb.worksheets[0]
    title = ws["A1"].value
    assert story.org.name in title and story.campaign.name in title and "整改台账" in title
    assert ws["A1"].font.bold and wb.properties.title == title
    header = [c.value for c in ws[2]]
    assert header[:len(exporter.LEDGER_COLUMNS)] == [zh for zh, _ in exporter.LEDGER_COLUMNS]
    assert all(c.font.bold for c in ws[2])
    assert ws.freeze_panes == "A3" and ws.print_title_rows == "$1:$2"
    assert ws.page_setup.orientation == "landscape" and int(ws.page_setup.paperSize) == 9
    assert ws.sheet_properties.pageSetUpPr.fitToPage and ws.page_setup.fitToWidth == 1
    assert all(c.alignment.wrap_text for row in ws.iter_rows(min_row=3) for c in row)
    widths = {k: d.width for k, d in ws.column_dimensions.items()}
    assert widths["A"] < widths["B"] <= exporter.MAX_WIDTH  # No. narrow, the problem wide
    assert all(exporter.MIN_WIDTH <= w <= exporter.MAX_WIDTH for w in widths.values())
    english = tmp_path / "en.xlsx"
    exporter.export_ledger(story.org, english, english=True)
    ws = load_workbook(english).worksheets[0]
    assert "Rectification ledger" in ws["A1"].value and ws["A2"].value == "No."
