"""Photos and paper in a real browser (Debian's Chromium), in Chinese and in English: a
worker submits an opinion with a photo and sees it with the receipt; a clerk prints a sheet
of receipt slips (an A4 PDF from the print layout) and types a paper form in with a slip's
number; the slip's code then opens the case on the receipt page."""

from __future__ import annotations

import io

import pytest
from PIL import Image

from tests.web.test_browser import CHROMIUM, Walk, browser  # noqa: F401 (a fixture)
from zhenggai.opinions.models import Opinion, OpinionPhoto, Slip

pytestmark = [pytest.mark.slow]

WORDS = {
    "en": {"typed": "Typed in", "used": "used already"},
    "zh-hans": {"typed": "已录入", "used": "已经用过"},
}


def _phone_photo() -> bytes:
    im = Image.new("RGB", (120, 90), (30, 90, 160))
    exif = Image.Exif()
    exif[0x010F], exif[0x0110] = "PhoneMakerB", "ModelB2"
    out = io.BytesIO()
    im.save(out, "JPEG", exif=exif)
    return out.getvalue()


@pytest.mark.parametrize("lang", ["zh-hans", "en"])
def test_a_photo_and_a_paper_form_through_the_pages(live_server, browser, story,  # noqa: F811
                                                    tmp_path, lang):
    walk = Walk(browser, live_server.url, lang, tmp_path)
    words = WORDS[lang]
    base = live_server.url

    # 1. A worker, not signed in, submits an opinion with a photo from the phone.
    anon = walk.page()
    anon.goto(base + "/submit/")
    text = "澡堂地面太滑，有人摔倒" + lang
    anon.fill("textarea[name=text]", text)
    photo = tmp_path / "IMG_0042.jpg"
    photo.write_bytes(_phone_photo())
    anon.set_input_files("#id_photos", str(photo))
    anon.click("main form button")
    anon.wait_for_selector("#receipt")
    receipt = anon.inner_text("#receipt").strip()
    o = Opinion.objects.get(text=text)
    stored = bytes(OpinionPhoto.objects.get(opinion=o).data)
    assert b"PhoneMakerB" not in stored and b"ModelB2" not in stored
    # with the receipt, the photo is on the case (inline: the code opens no other address)
    anon.goto(base + "/receipt/")
    anon.fill("#receipt", receipt)
    anon.click("main form button")
    img = anon.locator(".photos img").first
    img.wait_for()
    assert anon.evaluate("i => i.complete && i.naturalWidth", img.element_handle()) == 120
    walk.shot(anon, "receipt-photo")

    # 2. The clerk sees it on the desk, and prints a sheet of ten slips.
    clerk = walk.page(story.clerk)
    clerk.goto(base + "/desk/")
    clerk.locator(".photos img").first.wait_for()
    clerk.click("a[href='/desk/slips/']")
    walk.shot(clerk, "slips")
    clerk.fill("#id_count", "10")
    clerk.click("main form button")
    clerk.wait_for_selector("[data-slip]")
    numbers = [n.strip() for n in clerk.locator("[data-slip]").all_inner_texts()]
    codes = [c.strip() for c in clerk.locator("[data-receipt]").all_inner_texts()]
    assert len(numbers) == len(codes) == 10 == Slip.objects.filter(used=False).count()
    walk.shot(clerk, "slips-sheet")
    # the print layout: ten slips on one A4 page, without the site's header
    clerk.emulate_media(media="print")
    assert clerk.locator("header.site").is_hidden()
    pdf = clerk.pdf(format="A4", print_background=False)
    assert pdf.startswith(b"%PDF") and pdf.count(b"/Type /Page\n") + pdf.count(
        b"/Type /Page>>") + pdf.count(b"/Type /Page ") <= 2
    clerk.emulate_media(media="screen")

    # 3. A worker took the third slip; the form comes back from the box and is typed in.
    clerk.goto(base + "/desk/paper/")
    form_text = "夜班食堂没有热饭" + lang
    clerk.fill("#id_slip", numbers[2])
    clerk.fill("#id_text", form_text)
    walk.shot(clerk, "paper")
    clerk.click("main form button")
    clerk.wait_for_selector(".done")
    assert words["typed"] in clerk.inner_text(".done")
    # the same slip again is refused, and nothing more is stored
    clerk.fill("#id_slip", numbers[2])
    clerk.fill("#id_text", "再录一次")
    clerk.click("main form button")
    clerk.wait_for_selector(".error")
    assert words["used"] in clerk.inner_text(".error")
    assert not Opinion.objects.filter(text="再录一次").exists()

    # 4. The worker opens the case with the code kept from the slip.
    holder = walk.page()
    holder.goto(base + "/receipt/")
    holder.fill("#receipt", codes[2])
    holder.click("main form button")
    holder.wait_for_selector("article.card")
    assert form_text in holder.inner_text("article.card")
    paper = Opinion.objects.get(text=form_text)
    assert paper.anonymous and paper.channel == "paper" and paper.author_id is None
